"""The suppression list as the use cases see it: ``usms suppress add|remove|list|push``, the
numbers a marketing send leaves out, and the ``usms listen`` hooks that put pushed receipts
into the send history and opt-out replies on the list (rules in ``core/suppression.py``, the
table in ``engine/suppression.py``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from usms_cli.core.errors import InputError, UsmsError
from usms_cli.core.suppression import SuppressResult
from usms_cli.i18n import tr, tr_n

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from usms_cli.app.common import Connection
    from usms_cli.app.env import Env
    from usms_cli.app.job import Job
    from usms_cli.app.request import SendRequest
    from usms_cli.core.outcomes import BlacklistResult
    from usms_cli.core.pushes import PushEvent
    from usms_cli.engine.settings import Settings
    from usms_cli.engine.suppression import SuppressionList
    from usms_cli.output.console import Output

OFF = ("off", "0", "false", "no", "none")
PUSH_REMARK = "opted out (usms suppress push)"


def _path(env: Env) -> Path:
    from usms_cli.engine.history import history_path

    path = history_path(env.environ)
    if path is None:
        raise InputError(
            tr("the suppression list is kept in the send history, which is off (USMS_HISTORY=off)"),
            hint=tr("set USMS_HISTORY to a file, or unset it"),
        )
    return path


def _open(env: Env) -> SuppressionList:
    from usms_cli.engine.suppression import SuppressionList

    return SuppressionList.at(_path(env))


def _numbers(console: Output, phones: Sequence[str], files: Sequence[str]) -> tuple[list[str], int]:
    """The numbers, read and checked exactly as ``usms send`` reads them; exit 2 otherwise."""
    from usms_cli.core.phones import collect
    from usms_cli.engine.inputs import gather
    from usms_cli.output.render import invalid_details

    if not phones and not files:
        raise InputError(tr("give the numbers: NUMBER… or -f FILE"))
    recipients = collect(gather(phones, files))
    console.add_masks(recipients.numbers)
    where = ", ".join([*([tr("the arguments")] if phones else []), *files])
    if recipients.invalid_count:
        raise InputError(
            tr_n(
                "{n:,} invalid phone number in {where}; nothing was changed",
                "{n:,} invalid phone numbers in {where}; nothing was changed",
                recipients.invalid_count,
                n=recipients.invalid_count,
                where=where,
            ),
            hint=tr("fix them: +CC/00CC/(CC) prefixes for numbers abroad"),
            details=invalid_details(recipients),
        )
    if not recipients.numbers:
        raise InputError(tr("no phone numbers found in {where}; nothing was changed", where=where))
    return list(recipients.numbers), recipients.duplicates


def add(
    console: Output, env: Env, phones: Sequence[str], files: Sequence[str], note: str = ""
) -> SuppressResult:
    """Put numbers on the list by hand."""
    numbers, duplicates = _numbers(console, phones, files)
    store = _open(env)
    try:
        added = store.add(numbers, "hand", note)
    finally:
        store.close()
    done = set(added)
    unchanged = [n for n in numbers if n not in done]
    return SuppressResult("add", added, unchanged, duplicates, path=str(store.path))


def remove(
    console: Output, env: Env, phones: Sequence[str], files: Sequence[str]
) -> SuppressResult:
    """Take numbers off the list (they get marketing SMS again)."""
    numbers, duplicates = _numbers(console, phones, files)
    path = _path(env)
    if not path.exists():
        return SuppressResult("remove", [], numbers, duplicates, path=str(path))
    store = _open(env)
    try:
        removed = store.remove(numbers)
    finally:
        store.close()
    done = set(removed)
    unchanged = [n for n in numbers if n not in done]
    return SuppressResult("remove", removed, unchanged, duplicates, path=str(path))


def listing(console: Output, env: Env) -> SuppressResult:
    """Everything on the list, oldest first (an empty list when there is no file yet)."""
    path = _path(env)
    if not path.exists():
        return SuppressResult("list", path=str(path))
    store = _open(env)
    try:
        entries = store.entries()
    finally:
        store.close()
    console.add_masks(entry.phone for entry in entries)
    return SuppressResult("list", entries=entries, path=str(path))


def push(
    console: Output, env: Env, connection: Connection, is_global: bool = False
) -> BlacklistResult:
    """Send the whole list to UCloud's blacklist (purpose marketing), through the same use
    case as ``usms blacklist add``: one BatchCreateUSMSBlacklistPhone per 1000 numbers."""
    from usms_cli.app.blacklist import BlacklistRequest
    from usms_cli.app.blacklist import add as blacklist_add

    numbers = [entry.phone for entry in listing(console, env).entries]
    if not numbers:
        raise InputError(tr("the suppression list is empty; nothing was sent"))
    request = BlacklistRequest(
        phones=tuple(numbers), purpose="marketing", is_global=is_global, remark=PUSH_REMARK
    )
    return blacklist_add(console, env, connection, request)


# --------------------------------------------------------------------------------------------
# usms send


def leave_out(
    console: Output, env: Env, settings: Settings, job: Job, request: SendRequest
) -> tuple[Job, list[str]]:
    """The job without the suppressed numbers when the template is marketing, and those
    numbers. The template is looked up only when some numbers are on the list."""
    if request.include_suppressed or request.sandbox and not _history_named(env):
        return job, []
    try:
        on_list = _among(env, job.recipients.numbers)
    except UsmsError as exc:  # a corrupt or unreadable file never blocks a send (as the history)
        console.warn(
            tr("the suppression list could not be read, so no number is left out: {exc}", exc=exc)
        )
        return job, []
    if not on_list:
        return job, []
    if not _is_marketing(console, settings, job, request, len(on_list)):
        return job, []
    if len(on_list) == len(job.recipients.numbers):
        raise InputError(
            tr_n(
                "the {n:,} number is on the suppression list (it opted out) and the template "
                "is for marketing; nothing was sent",
                "all {n:,} numbers are on the suppression list (they opted out) and the "
                "template is for marketing; nothing was sent",
                len(on_list),
                n=len(on_list),
            ),
            hint=tr("--include-suppressed sends anyway; usms suppress list shows why"),
        )
    return job.without(set(on_list)), on_list


def _history_named(env: Env) -> bool:
    return bool(env.environ.get("USMS_HISTORY", "").strip())


def _among(env: Env, numbers: Sequence[str]) -> list[str]:
    if env.environ.get("USMS_HISTORY", "").strip().lower() in OFF:
        return []
    from usms_cli.engine.history import history_path

    path = history_path(env.environ)
    if path is None or not path.exists():
        return []
    store = _open(env)
    try:
        return store.among(numbers)
    finally:
        store.close()


def _is_marketing(
    console: Output, settings: Settings, job: Job, request: SendRequest, count: int
) -> bool:
    """The template's purpose (QueryUSMSTemplate); unknown counts as marketing, with a note."""
    from usms_cli.app.lookup import template_data
    from usms_cli.core.suppression import applies

    template_id = job.message.template_id
    why = tr("no credentials to look it up")
    if settings.public_key and settings.private_key and not request.offline:
        try:
            data = template_data(console, settings, template_id, request.connection.verbose)
            verdict = applies(data.get("Purpose"))
            if verdict is not None:
                return verdict
            why = tr("the answer has no Purpose")
        except UsmsError as exc:
            why = exc.message
    console.warn(
        tr_n(
            "{n:,} number on the suppression list; whether template {template} is for marketing "
            "could not be checked ({why}), so it is left out (--include-suppressed sends to it)",
            "{n:,} numbers on the suppression list; whether template {template} is for "
            "marketing could not be checked ({why}), so they are left out (--include-suppressed "
            "sends to them)",
            count,
            n=count,
            template=template_id,
            why=why,
        )
    )
    return True


# --------------------------------------------------------------------------------------------
# usms listen


class ListenHooks:
    """The ``on_event`` hooks of ``usms listen``: a pushed receipt goes into the send history
    (``usms history --phone``), an opt-out reply onto the suppression list. The history is
    opened on first use, in the listener's worker thread (the only thread that calls)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: SuppressionList | None = None
        self._thread: int | None = None

    def _open(self) -> SuppressionList:
        from usms_cli.engine.suppression import SuppressionList

        if self._store is None or self._thread != threading.get_ident():
            self._store = SuppressionList.at(self.path)
            self._thread = threading.get_ident()
        return self._store

    def receipt_to_history(self, event: PushEvent) -> None:
        if event.kind == "receipt":
            self._open().record_receipts([event.as_receipt()])

    def opt_out_to_list(self, event: PushEvent) -> None:
        from usms_cli.core.phones import InvalidPhone, normalize

        if event.kind != "reply" or not event.opt_out:
            return
        try:
            phone = normalize(event.phone)
        except InvalidPhone:
            phone = event.phone.strip()
        self._open().add([phone], "reply", event.reply_content)

    @property
    def hooks(self) -> list[Callable[[PushEvent], None]]:
        return [self.receipt_to_history, self.opt_out_to_list]


def listen_hooks(env: Env) -> tuple[list[Callable[[PushEvent], None]], str]:
    """The hooks for ``usms listen`` (none when the history is off), and a line for its
    banner that says where they write, or that they are off."""
    from usms_cli.engine.history import history_path

    path = history_path(env.environ)
    if path is None:
        return [], tr(
            "  the send history is off (USMS_HISTORY=off): receipts are not stored in it and "
            "opt-out replies do not go on the suppression list"
        )
    note = tr(
        "  receipts and opt-out replies are stored in {path} (usms history, usms suppress)",
        path=path,
    )
    return ListenHooks(path).hooks, note
