"""``usms blacklist add``: numbers read exactly as ``usms send`` reads them, sent 1000 per
BatchCreateUSMSBlacklistPhone request, and sorted by the answers into added, refused and
unconfirmed. After a transport failure the remaining requests are not sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from usms_cli.app.common import Connection, api_client, require_credentials, resolve
from usms_cli.core.errors import InputError
from usms_cli.core.outcomes import BlacklistResult
from usms_cli.i18n import tr, tr_n

if TYPE_CHECKING:
    from collections.abc import Sequence

    from usms_cli.app.env import Env
    from usms_cli.core.phones import Recipients
    from usms_cli.core.results import ApiResult
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class BlacklistRequest:
    phones: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    purpose: str = "all"
    is_global: bool = False
    remark: str | None = None
    skip_invalid: bool = False


def _numbers(console: Output, request: BlacklistRequest) -> Recipients:
    from usms_cli.core.phones import collect
    from usms_cli.engine.inputs import gather
    from usms_cli.output.render import invalid_details

    recipients = collect(gather(request.phones, request.files))
    console.add_masks(recipients.numbers)
    where = ", ".join([*([tr("the arguments")] if request.phones else []), *request.files])
    if recipients.invalid_count and not request.skip_invalid:
        count = recipients.invalid_count
        raise InputError(
            tr_n(
                "{n:,} invalid phone number in {where}; nothing was sent",
                "{n:,} invalid phone numbers in {where}; nothing was sent",
                count,
                n=count,
                where=where,
            ),
            hint=tr("fix them, or pass --skip-invalid to add the valid ones only"),
            details=invalid_details(recipients),
        )
    if not recipients.numbers:
        raise InputError(
            tr(
                "no phone numbers found in {where}; nothing was sent",
                where=where or tr("the input"),
            )
        )
    return recipients


def add(
    console: Output, env: Env, connection: Connection, request: BlacklistRequest
) -> BlacklistResult:
    """Add the numbers; the result says what became of each one."""
    from usms_cli.core import blacklist
    from usms_cli.core.api import chunks
    from usms_cli.core.signing import signed_params

    if not request.phones and not request.files:
        raise InputError(tr("give the numbers: usms blacklist add NUMBER… or -f FILE"))
    purpose = blacklist.parse_purpose(request.purpose)
    blacklist.check_remark(request.remark)
    recipients = _numbers(console, request)
    settings = resolve(connection, env, console)
    keys = require_credentials(settings)
    result = BlacklistResult(duplicates=recipients.duplicates)
    client = api_client(console, settings, connection.verbose)
    stop: str | None = None
    try:
        for chunk in chunks(recipients.numbers, blacklist.MAX_PER_REQUEST):
            if stop is not None:
                result.not_sent.update(dict.fromkeys(chunk, stop))
                continue
            params = blacklist.build_request(
                chunk, purpose, request.remark, request.is_global, settings.project_id
            )
            answer = client.call(signed_params(params, *keys))
            result.requests += 1
            stop = _sort(result, chunk, answer)
    finally:
        client.close()
    return result


def _sort(result: BlacklistResult, chunk: Sequence[str], answer: ApiResult) -> str | None:
    """File the numbers of one request; the reason to stop sending, if any."""
    from usms_cli.core.blacklist import read_answer
    from usms_cli.core.results import refusal

    if answer.status == "accepted":
        outcome = read_answer(answer.body, chunk)
        result.added += outcome.added
        result.refused.update(dict.fromkeys(outcome.failed, tr("in the answer's FailedList")))
        result.unconfirmed.update(
            dict.fromkeys(outcome.unconfirmed, tr("named in neither SuccessList nor FailedList"))
        )
        return None
    if answer.status == "rejected":
        text, _ = refusal(answer, tr("the request"))
        result.refused.update(dict.fromkeys(chunk, text))
        return None
    why = answer.error or tr("no usable answer")
    if answer.status == "not_sent":
        result.not_sent.update(dict.fromkeys(chunk, why))
        return tr("not sent after an earlier request failed ({problem})", problem=why)
    result.unconfirmed.update(dict.fromkeys(chunk, why))
    return tr("not sent after an earlier request's outcome was unknown")
