"""The ``usms listen`` command: options only; the work is in ``usms_cli.app.listen``."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from pathlib import Path
from typing import Annotated

import typer

from usms_cli.cli.options import DebugOpt
from usms_cli.core.errors import ExitCode

LISTEN_EPILOG = """\
Examples:

  usms listen --out events.jsonl

  usms listen --random-path

  USMS_LISTEN_PATH=/usms-8dF… usms listen --host 0.0.0.0 --public --port 8041

  usms listen --exec 'jq -c . >> replies.log' --forward-to http://127.0.0.1:9000/sms

Ask UCloud support to send status reports and replies to http://YOUR-HOST:PORT/PATH. Each
push is answered {"code":0,"message":"ok"} once its events are written and synced to --out
(one JSON line each, created mode 0600); if they cannot be written the answer is HTTP 500, so
UCloud sends it again (it tries 3 more times, 1 s apart). A repeated event (same fields) is
recorded once. Refused without being recorded: wrong path (404), other methods (405), bodies
over 64 KiB (413), bodies that are not a USMS push (400).

A reply that is only an opt-out keyword (R, T, TD, N, 退订, 回T, 回TD, 取消, 拒收, STOP,
UNSUBSCRIBE, …; case, spaces, punctuation and full-width forms ignored) gets "opt_out": true,
and its number goes on the suppression list (usms suppress list), which marketing sends skip.
Pushed status reports are stored in the send history (usms history --phone N). Both live in
the history file (USMS_HISTORY); with USMS_HISTORY=off neither happens, and listen says so.

--exec runs the command with sh for each new event, the event's JSON on stdin (USMS_EVENT_TYPE
and USMS_EVENT_KEY in its environment, its stdout sent to stderr); --forward-to POSTs the same
JSON (header X-Usms-Event-Key). Both run in order, in the background, never delaying the answer
to UCloud; a failure is logged and tried again (3 tries, 1 s then 2 s apart).

Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM) · 2 bad options, the port is taken or --out
cannot be written · 130 a second Ctrl-C while stopping.
"""


def listen(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="ADDRESS",
            help="Address to listen on. Loopback unless --public is given too.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0 picks a free one)."),
    ] = 8041,
    path: Annotated[
        str,
        typer.Option(
            "--path",
            metavar="PATH",
            envvar="USMS_LISTEN_PATH",
            show_envvar=False,
            help="URL path that receives pushes; a long random one acts as a shared secret "
            "(see --random-path). (env USMS_LISTEN_PATH, which keeps it out of ps)",
        ),
    ] = "/usms",
    random_path: Annotated[
        bool,
        typer.Option("--random-path", help="Print a long random path for --path, then exit."),
    ] = False,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="Allow a --host other machines can reach (pushes are not authenticated).",
        ),
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="FILE",
            dir_okay=False,
            help="Append each event here as one JSON line (created mode 0600).",
        ),
    ] = Path("events.jsonl"),
    exec_command: Annotated[
        str | None,
        typer.Option(
            "--exec",
            metavar="CMD",
            help="Run CMD (with sh) for each new event, the event's JSON on its stdin.",
            show_default=False,
        ),
    ] = None,
    exec_timeout: Annotated[
        float,
        typer.Option(
            "--exec-timeout",
            metavar="SECONDS",
            help="Stop a --exec command after this long; also the timeout of --forward-to.",
        ),
    ] = 10.0,
    forward_to: Annotated[
        str | None,
        typer.Option(
            "--forward-to",
            metavar="URL",
            help="POST each new event's JSON to this URL.",
            show_default=False,
        ),
    ] = None,
    opt_out_words: Annotated[
        str | None,
        typer.Option(
            "--opt-out-words",
            metavar="A,B,…",
            envvar="USMS_OPT_OUT_WORDS",
            show_envvar=False,
            help="Replace the opt-out keywords (comma-separated; '' for none). "
            "(env USMS_OPT_OUT_WORDS)",
            show_default=False,
        ),
    ] = None,
    json_mode: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print each new event on stdout as one JSON line (the --out line, unmasked).",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Do not print each event on stdout.")
    ] = False,
    show_pii: Annotated[
        bool,
        typer.Option(
            "--show-pii", help="Show phone numbers and reply text in full (masked by default)."
        ),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Receive UCloud's pushed delivery reports and replies; record each once (JSON lines)."""
    # long function: a Typer declaration, one parameter per option; the body is short.
    from usms_cli.cli.funnel import console, finish

    output = console(json_mode=json_mode, quiet=quiet, show_pii=show_pii)

    def run() -> ExitCode:
        from usms_cli.app import listen as use_case

        if random_path:
            output.out.line(use_case.random_path())
            return ExitCode.OK
        words = None if opt_out_words is None else opt_out_words.split(",")
        config = use_case.ListenConfig(
            host=host,
            port=port,
            path=path,
            out=out,
            public=public,
            exec_command=exec_command,
            exec_timeout=exec_timeout,
            forward_to=forward_to,
            opt_out_words=words,
        )
        from usms_cli.app.env import Env
        from usms_cli.app.suppress import listen_hooks

        hooks, note = listen_hooks(Env.from_process())
        config.notes = [note]
        return use_case.run_listen(output, config, hooks)

    finish(output, run, debug=debug)
