"""usms-cli: send SMS through UCloud USMS from the shell, cron, CI, or Python.

``from usms_cli import send, SendRequest`` gives the use cases the CLI is built on (see
``usms_cli.app.library``); they are imported on first use, so ``import usms_cli`` stays cheap.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Connection",
    "Env",
    "ExitCode",
    "SendRequest",
    "UsmsError",
    "Wait",
    "receipts",
    "send",
    "signature",
    "template",
]

_HOMES = {
    "Connection": "usms_cli.app.common",
    "Env": "usms_cli.app.env",
    "ExitCode": "usms_cli.core.errors",
    "SendRequest": "usms_cli.app.request",
    "UsmsError": "usms_cli.core.errors",
    "Wait": "usms_cli.app.receipt",
    "receipts": "usms_cli.app.library",
    "send": "usms_cli.app.library",
    "signature": "usms_cli.app.library",
    "template": "usms_cli.app.library",
}

if TYPE_CHECKING:
    from usms_cli.app.common import Connection
    from usms_cli.app.env import Env
    from usms_cli.app.library import receipts, send, signature, template
    from usms_cli.app.receipt import Wait
    from usms_cli.app.request import SendRequest
    from usms_cli.core.errors import ExitCode, UsmsError


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'usms_cli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
