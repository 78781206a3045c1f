"""The guards before a real send: marketing hours, and a question before a large send."""

from __future__ import annotations

from typing import TYPE_CHECKING

from usms_cli.app.lookup import template_data
from usms_cli.core.codes import MARKETING
from usms_cli.core.errors import InputError, UsmsError
from usms_cli.core.text import plural

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.cost import Cost
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

DEFAULT_CONFIRM_ABOVE = 1000


def check_marketing_hours(
    console: Output, env: Env, settings: Settings, template_id: str, verbose: bool
) -> None:
    """Refuse a marketing template (purpose 3) outside 08:00-20:00 China time. The template
    is looked up only outside those hours, so a send in hours stays one request."""
    from usms_cli.core import content

    moment = env.now()
    if not content.outside_marketing_hours(moment):
        return
    try:
        purpose = template_data(console, settings, template_id, verbose).get("Purpose")
    except UsmsError as exc:
        console.warn(
            f"outside 08:00-20:00 China time, and whether template {template_id} is a marketing "
            f"template could not be checked ({exc.message}); sending anyway"
        )
        return
    if str(purpose) == str(MARKETING):
        local = moment.astimezone(content.CHINA).strftime("%H:%M")
        raise InputError(
            f"template {template_id} is a marketing template; marketing SMS may be sent only "
            f"08:00-20:00 China time, and it is {local} there; nothing was sent",
            hint="send it in those hours, or pass --allow-outside-hours if it may go out now",
        )


def confirm_mass_send(
    console: Output, env: Env, count: int, cost: Cost | None, confirm_above: int | None, yes: bool
) -> None:
    """Above the threshold, ask in a terminal; without one, a threshold set explicitly (flag
    or USMS_CONFIRM_ABOVE) needs --yes. Never asks, and never hangs, otherwise."""
    explicit = confirm_above  # the flag, or USMS_CONFIRM_ABOVE (Typer reads and checks it)
    threshold = DEFAULT_CONFIRM_ABOVE if explicit is None else explicit
    if yes or count <= threshold:
        return
    segments = "" if cost is None else f" ({plural(cost.total_segments, 'SMS segment')})"
    what = f"{plural(count, 'recipient')}{segments}"
    if env.interactive():
        console.err.line(f"usms: about to send to {what}. Send? [y/N] ")
        answer = env.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            return
        raise InputError("not sent: the send was not confirmed")
    if explicit is not None:
        raise InputError(
            f"{what} is more than the --confirm-above/USMS_CONFIRM_ABOVE limit of "
            f"{threshold:,}, and there is no terminal to ask; nothing was sent",
            hint="pass --yes to send anyway",
        )
