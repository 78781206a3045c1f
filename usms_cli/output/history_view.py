"""How ``usms history`` looks: one line per run, or per send to one number (masked), or one
JSON object with full numbers."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from usms_cli.i18n import N_, tr
from usms_cli.output.config_view import aligned
from usms_cli.output.words import OUTCOMES, RECEIPTS, shown

if TYPE_CHECKING:
    from usms_cli.output.console import Output

CHINA = datetime.timezone(datetime.timedelta(hours=8))
RUN_HEADERS = (
    N_("Run"),
    N_("When (China)"),
    N_("Template"),
    N_("Numbers"),
    N_("Outcome"),
    N_("Exit"),
)
SEND_HEADERS = (
    N_("When (China)"),
    N_("Run"),
    N_("Template"),
    N_("Status"),
    N_("SessionNo"),
    N_("Receipt"),
)


def _when(seconds: float | int | None) -> str:
    if not seconds:
        return ""
    return datetime.datetime.fromtimestamp(seconds, CHINA).strftime("%Y-%m-%d %H:%M:%S")


def render_runs(output: Output, runs: Sequence[Any]) -> None:
    if output.json_mode:
        output.json({"ok": True, "runs": [_run_json(run) for run in runs]})
        return
    if not runs:
        output.out.line(tr("No sends recorded yet."))
        return
    rows = [tuple(tr(h) for h in RUN_HEADERS)]
    for run in runs:
        counts = tr(", ").join(
            tr("{count:,} {outcome}", count=n, outcome=_outcome(k))
            for k, n in run.counts.items()
            if n
        )
        exit_code = tr("killed") if run.exit_code is None else str(run.exit_code)
        rows.append(
            (
                str(run.id),
                _when(run.started),
                run.template_id,
                f"{run.planned:,}",
                counts,
                exit_code,
            )
        )
    for index, line in enumerate(aligned(rows, 5)):
        output.out.line(line.rstrip(), "bold" if index == 0 else None)


def _outcome(key: str) -> str:
    return shown(OUTCOMES, key) if key in OUTCOMES else key.replace("_", " ")


def _run_json(run: Any) -> dict[str, Any]:
    data = asdict(run)
    data["numbers"] = run.planned
    data["counts"] = run.counts
    return data


def render_sends(output: Output, phone: str, sends: Sequence[Any]) -> None:
    if output.json_mode:
        output.json({"ok": True, "phone": phone, "sends": [asdict(s) for s in sends]})
        return
    masked = output.masker.phone(phone)
    if not sends:
        output.out.line(tr("Nothing recorded for {phone}.", phone=masked))
        return
    rows = [tuple(tr(h) for h in SEND_HEADERS)]
    for send in sends:
        receipt = shown(RECEIPTS, send.receipt) if send.receipt else ""
        if send.receipt_code:
            receipt += f" ({send.receipt_code})"
        status = _outcome(send.status) + (f": {send.reason}" if send.reason else "")
        rows.append(
            (
                _when(send.time),
                str(send.run_id),
                send.template_id,
                status,
                send.session_no or "",
                receipt,
            )
        )
    output.out.line(tr("Sends to {phone}:", phone=masked))
    for index, line in enumerate(aligned(rows, 5)):
        output.out.line(line.rstrip(), "bold" if index == 0 else None)
