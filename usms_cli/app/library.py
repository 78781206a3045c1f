"""The Python API: the send, receipt and look-up use cases with typed results, for callers
that are not the CLI. Settings resolve as the CLI resolves them (flags in ``Connection``, then
the environment, ``.env``, the UCloud profile). Re-exported by ``usms_cli``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from usms_cli.app.common import Connection
from usms_cli.app.env import Env
from usms_cli.app.receipt import Wait

if TYPE_CHECKING:
    from usms_cli.app.lookup import LookupResult
    from usms_cli.app.receipt import ReceiptResult
    from usms_cli.app.request import SendRequest
    from usms_cli.app.send import SendResult
    from usms_cli.output.console import Output


def _console(console: Output | None) -> Output:
    """Warnings and errors on stderr, nothing on stdout: results are returned, not printed."""
    if console is not None:
        return console
    from usms_cli.output.console import Output

    return Output(quiet=True)


def send(
    request: SendRequest, *, env: Env | None = None, console: Output | None = None
) -> SendResult:
    """Send as ``usms send`` does (journal, guards, --wait included); raises UsmsError (with
    ``exit_code``) for anything that stopped it before sending."""
    from usms_cli.app.send import send as run

    return run(request, env or Env.from_process(), _console(console))


def receipts(
    session_nos: Sequence[str],
    *,
    connection: Connection | None = None,
    wait: Wait | None = None,
    env: Env | None = None,
    console: Output | None = None,
) -> ReceiptResult:
    """The delivery receipts of ``session_nos`` (``wait`` polls until final)."""
    from usms_cli.app.receipt import receipts as run

    env = env or Env.from_process()
    return run(_console(console), env, connection or Connection(), session_nos, wait or Wait())


def template(
    template_id: str,
    *,
    connection: Connection | None = None,
    env: Env | None = None,
    console: Output | None = None,
) -> LookupResult:
    """A template and its review status (``result.exit_code`` is 0 when approved)."""
    from usms_cli.app.lookup import lookup

    env = env or Env.from_process()
    return lookup(_console(console), env, connection or Connection(), "template", template_id)


def signature(
    sig_content: str | None = None,
    *,
    sig_id: str | None = None,
    connection: Connection | None = None,
    env: Env | None = None,
    console: Output | None = None,
) -> LookupResult:
    """A signature (by its text or ``sig_id``) and its review status."""
    from usms_cli.app.lookup import lookup

    env = env or Env.from_process()
    conn = connection or Connection()
    return lookup(_console(console), env, conn, "signature", sig_content, sig_id)
