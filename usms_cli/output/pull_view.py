"""How ``usms receipt --pull`` looks: the pulled reports as ``usms receipt`` shows receipts,
a line saying how many came in how many calls, or one JSON object (the receipt object plus
``pulled``, ``calls``, ``more_waiting`` and ``error``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usms_cli.i18n import tr, tr_n
from usms_cli.output.render import receipts_json, render_receipts

if TYPE_CHECKING:
    from usms_cli.output.console import Output


def render_pull(output: Output, result: Any, max_calls: int) -> None:
    """``result`` is an ``app.receipt.PullResult``."""
    code = result.exit_code
    if output.json_mode:
        payload = receipts_json(result.state, False)
        payload.update(
            ok=code == 0,
            exit_code=int(code),
            pulled=result.pulled,
            calls=result.calls,
            more_waiting=result.more_waiting,
        )
        if result.error is not None:
            payload["error"] = result.error
        output.json(payload)
        return
    render_receipts(output, result.state, waited=False, timed_out=False)
    if not output.quiet:
        calls = tr_n("{n:,} call", "{n:,} calls", result.calls, n=result.calls)
        output.err.line(
            tr_n(
                "Pulled {n:,} report in {calls} (each report is given once: they are in the "
                "send history now).",
                "Pulled {n:,} reports in {calls} (each report is given once: they are in the "
                "send history now).",
                result.pulled,
                n=result.pulled,
                calls=calls,
            )
        )
    if result.more_waiting:
        output.warn(
            tr(
                "stopped after {calls} calls ({reports:,} reports at most per run); more may be "
                "waiting: run usms receipt --pull again",
                calls=max_calls,
                reports=max_calls * 200,
            )
        )
    if result.error is not None:
        output.error(
            tr_n(
                "a pull failed after {n:,} report had been received: {error}",
                "a pull failed after {n:,} reports had been received: {error}",
                result.pulled,
                n=result.pulled,
                error=result.error,
            ),
            hint=tr("the reports above are kept; run usms receipt --pull again for the rest"),
        )
