"""A local, USMS-compatible sandbox server (stdlib only; rich for the live display).

It speaks the wire protocol of UCloud's API gateway closely enough that the official SDK and
``usms`` itself cannot tell the difference for the actions usms uses: the sends
(``SendUSMSMessage``, ``SendBatchUSMSMessage``), ``GetUSMSSendReceipt``, templates and
signatures (``Create``/``Update``/``Delete``/``Query``, with a review that ends after
``review_delay``), the statistics (``GetUSMSSendStatistics``,
``GetUSMSTemplateSendStatistics``, counted from its own sends) and
``BatchCreateUSMSBlacklistPhone``. Nothing leaves the machine (it binds only to loopback), and
accepted messages can be shown live, recorded as JSON lines and inspected from tests through
:class:`SandboxServer`.

The sandbox is a deliberately independent oracle for what the real API checks: it
re-implements the API's rules (phone numbers, template variables, length and billing) on
purpose instead of importing the client's, so that a bug in the client's rules is caught by
it rather than copied into it. From the rest of ``usms_cli`` it imports only
``core.signing`` (requests are signed and verified exactly like the real gateway does) and
``core.errors`` (for the messages of ``usms sandbox``), and ``i18n``: what the sandbox tells
the person running it (its banner, its inbox, its errors) is in the language of that run;
what it answers over HTTP imitates UCloud's server and stays as UCloud says it.

Modules: ``config`` (templates, signatures, the TOML file, the ``usms sandbox`` options),
``rules`` (the API's rules, pure), ``backend`` (the gateway checks and the sends, no HTTP),
``manage`` (templates and signatures), ``ledger`` (receipts, statistics, blacklist), ``http``
(framing and parsing), ``server`` (running it).
"""

from __future__ import annotations

from usms_cli.sandbox.config import (
    DEFAULT_PORT,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SIG_ID,
    DEFAULT_SIGNATURE,
    DEFAULT_TEMPLATE_ID,
    DEFAULT_TEMPLATE_TEXT,
    SandboxConfig,
    SandboxOptions,
    Signature,
    Template,
    config_from_options,
    default_signatures,
    default_templates,
    load_config_file,
)
from usms_cli.sandbox.http import MAX_BODY_BYTES
from usms_cli.sandbox.server import SandboxServer, serve_forever, start_sandbox

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SIGNATURE",
    "DEFAULT_SIG_ID",
    "DEFAULT_TEMPLATE_ID",
    "DEFAULT_TEMPLATE_TEXT",
    "MAX_BODY_BYTES",
    "SandboxConfig",
    "SandboxServer",
    "Signature",
    "Template",
    "SandboxOptions",
    "config_from_options",
    "default_signatures",
    "default_templates",
    "load_config_file",
    "serve_forever",
    "start_sandbox",
]
