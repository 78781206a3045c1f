"""One run of ``usms template apply``, entry by entry in file order: create (and write the id
back at once), look up, compare, update, delete. A refusal is recorded on its entry and the run
goes on; a transport failure (unreachable, outcome unknown) or a file that cannot be written
stops it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usms_cli.app.apply import (
    ApplyRequest,
    Entry,
    WriteBackFailed,
    failure_code,
    has_credentials,
    record_deleted,
    record_id,
    write_atomically,
)
from usms_cli.app.common import require_credentials
from usms_cli.core.errors import ExitCode, UsmsError
from usms_cli.core.outcomes import ApplyItem as Item
from usms_cli.core.outcomes import ApplyResult
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

_STOPS = (ExitCode.UNREACHABLE, ExitCode.UNKNOWN, ExitCode.PARTIAL)


class Run:
    def __init__(
        self,
        console: Output,
        settings: Settings,
        verbose: bool,
        request: ApplyRequest,
        document: TOMLDocument,
        bom: bool,
    ) -> None:
        self.console = console
        self.settings = settings
        self.verbose = verbose
        self.request = request
        self.document = document
        self.bom = bom
        if not request.dry_run:
            require_credentials(settings, N_("nothing was created"))
        self.online = has_credentials(settings)

    def all(self, entries: list[Entry]) -> ApplyResult:
        result = ApplyResult(self.request.path, self.request.dry_run)
        for entry in entries:
            if result.stopped:
                result.items.append(
                    Item(entry.spec.name, entry.template_id, "not attempted", reason=tr("stopped"))
                )
                continue
            item = Item(entry.spec.name, entry.template_id, "")
            try:
                self.one(entry, item, result)
            except UsmsError as exc:
                item.error = exc.message
                item.code = failure_code(exc)
                if item.code in _STOPS:
                    result.stopped = True
            result.items.append(item)
        return result

    def one(self, entry: Entry, item: Item, result: ApplyResult) -> None:
        if entry.delete:
            self.delete(entry, item, result)
        elif entry.template_id is None:
            self.create(entry, item, result)
        else:
            self.check(entry, item, result)

    # -- the three kinds of entry

    def create(self, entry: Entry, item: Item, result: ApplyResult) -> None:
        from usms_cli.app.templates import create_with

        if self.request.dry_run:
            item.action = "would create"
            return
        item.action = "create"
        try:
            created = create_with(self.console, self.settings, entry.spec, self.verbose)
        except UsmsError as exc:
            if exc.exit_code == ExitCode.UNKNOWN:
                exc.message += tr(
                    "; it may have been created: look in the USMS console before running "
                    "apply again, or it will be created twice"
                )
            raise
        item.template_id = entry.template_id = created.ids[0]
        item.action = "created"
        result.changed = True
        record_id(entry, created.ids[0])
        try:
            self.save()
        except WriteBackFailed as exc:
            exc.message = tr(
                'created as {template_id}, but {problem}: add id = "{template_id}" to this entry '
                "by hand before running apply again",
                template_id=created.ids[0],
                problem=exc.message,
            )
            raise
        self.look(item, created.ids[0])

    def check(self, entry: Entry, item: Item, result: ApplyResult) -> None:
        assert entry.template_id is not None
        if not self.online:
            item.action = "not looked up"
            item.reason = tr("no credentials")
            return
        data = self.look(item, entry.template_id)
        differences, fixed = _differences(entry, data)
        if fixed:
            item.note(fixed)
        if not differences:
            item.action = "unchanged"
            return
        item.action = "differs"
        if not self.request.update:
            item.note(
                tr(
                    "{fields} differ(s) from USMS; pass --update to send the file's",
                    fields=differences,
                )
            )
            return
        if self.request.dry_run:
            item.action = "would update"
            return
        self.update(entry, item)
        result.changed = True

    def update(self, entry: Entry, item: Item) -> None:
        from usms_cli.app.review import submit
        from usms_cli.core.templates import TemplateChange, build_update

        assert entry.template_id is not None
        spec = entry.spec
        change = TemplateChange(spec.text, spec.name, spec.remark, spec.instruction)
        params = build_update(entry.template_id, change, self.settings.project_id)
        submit(self.console, self.settings, params, N_("updating the template"), self.verbose)
        item.action = "updated"
        self.look(item, entry.template_id)

    def delete(self, entry: Entry, item: Item, result: ApplyResult) -> None:
        from usms_cli.app.review import submit
        from usms_cli.core.templates import build_delete

        if entry.template_id is None:
            item.action = "deleted" if "deleted_id" in entry.table else "skipped"
            item.reason = tr("marked delete = true; nothing to delete")
            return
        if not self.request.prune:
            item.action = "delete"
            item.reason = tr("marked delete = true; pass --prune to delete it")
            return
        if self.request.dry_run:
            item.action = "would delete"
            return
        params = build_delete([entry.template_id], self.settings.project_id)
        submit(self.console, self.settings, params, N_("deleting the template"), self.verbose)
        item.action = "deleted"
        result.changed = True
        record_deleted(entry)
        try:
            self.save()
        except WriteBackFailed as exc:
            exc.message = tr(
                "deleted, but {problem}: rename its id to deleted_id by hand", problem=exc.message
            )
            raise

    # -- helpers

    def look(self, item: Item, template_id: str) -> dict[str, Any]:
        from usms_cli.app.templates import fetch
        from usms_cli.core.codes import STATUS_WORDS, as_int

        data = fetch(self.console, self.settings, template_id, self.verbose)
        status = as_int(data.get("Status"))
        item.status = STATUS_WORDS.get(status, "unknown") if status is not None else "unknown"
        item.reason, item.code = "", ExitCode.OK  # a look after an update starts afresh
        if item.status in ("rejected", "disabled"):  # final, and no send may use it
            item.reason = str(data.get("ErrDesc") or "")
            item.code = ExitCode.REJECTED
        return data

    def save(self) -> None:
        write_atomically(self.request.path, self.document, self.bom)


def _differences(entry: Entry, data: dict[str, Any]) -> tuple[str, str]:
    """(what an update would change, a note on what no update can change)."""
    from usms_cli.core.codes import as_int

    spec = entry.spec
    changed = [
        label
        for label, mine, theirs in (
            (tr("text"), spec.text, data.get("Template")),
            (tr("name"), spec.name, data.get("TemplateName")),
        )
        if isinstance(theirs, str) and theirs != mine
    ]
    fixed = ""
    purpose = as_int(data.get("Purpose"))
    if purpose is not None and purpose != spec.purpose:
        fixed = tr(
            "the purpose differs from USMS's and cannot be changed: "
            "remove the id to create a new template"
        )
    return tr(" and ").join(changed), fixed
