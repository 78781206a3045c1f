"""The sandbox as a use case: ``usms sandbox`` in the foreground, and the throwaway sandbox
that ``usms send --sandbox`` starts, points the settings at and shows the inbox of."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ConfigError, ExitCode
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.app.request import SendRequest
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output
    from usms_cli.sandbox import SandboxOptions

SHOWN_INBOX = 20


class Throwaway:
    """A sandbox started for one ``usms send --sandbox``: fresh keys, stopped on exit."""

    def __init__(self, console: Output) -> None:
        import secrets

        from usms_cli.sandbox import SandboxConfig, start_sandbox

        config = SandboxConfig(
            public_key=f"throwaway-{secrets.token_hex(8)}",
            private_key=secrets.token_hex(20),
            receipt_delay=1.0,
        )
        self.server = start_sandbox(config)
        console.info(
            tr(
                "Sandbox: a local USMS endpoint at {url} (nothing leaves this machine)",
                url=self.server.base_url,
            )
        )

    def __enter__(self) -> Throwaway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    def point(self, settings: Settings, request: SendRequest, console: Output) -> Settings:
        """``settings`` aimed at this sandbox: its URL, keys and project. A template id or
        signature configured for real sends (USMS_TEMPLATE_ID, USMS_SIG_CONTENT, -t, -s) is
        registered here, approved, with --template-text or a neutral text with one {N} per
        -p, so that the quick start works with them set; without them, the sandbox's own."""
        from usms_cli.sandbox import DEFAULT_SIGNATURE, DEFAULT_TEMPLATE_ID, Signature, Template

        config = self.server.config
        template_id = (settings.template_id or "").strip() or DEFAULT_TEMPLATE_ID
        sig_content = settings.sig_content or DEFAULT_SIGNATURE
        new_template = template_id not in config.templates
        if new_template:
            count = len(request.params)
            text = request.template_text or "Sandbox message" + "".join(
                f" {{{n}}}" for n in range(1, count + 1)
            )
            config.templates[template_id] = Template(template_id, text)
        new_signature = sig_content not in config.signatures
        if new_signature:
            config.signatures[sig_content] = Signature(f"SIG-{sig_content}", sig_content)
        what: str | None = None
        if new_template and new_signature:
            what = tr(
                "template {template_id} and signature {signature!r}",
                template_id=template_id,
                signature=sig_content,
            )
        elif new_template:
            what = tr("template {template_id}", template_id=template_id)
        elif new_signature:
            what = tr("signature {signature!r}", signature=sig_content)
        if what is not None:
            console.info(
                tr(
                    "Sandbox: registered your {what} in the sandbox (approved), as configured "
                    "for real sends.",
                    what=what,
                )
            )
        return replace(
            settings,
            base_url=self.server.base_url,
            public_key=config.public_key,
            private_key=config.private_key,
            project_id=config.project_id,
            template_id=template_id,
            sig_content=sig_content,
        )

    def template_text(self, template_id: str) -> str | None:
        known = self.server.config.templates.get(template_id)
        return None if known is None else str(known.text)

    def show_inbox(self, console: Output) -> None:
        """The messages as the phones received them (masked unless --show-pii)."""
        masker = console.masker
        messages = list(self.server.messages)
        for message in messages[:SHOWN_INBOX]:
            phone = message["phone"]
            text = masker.text(message["text"], [phone], message["params"])
            console.info(tr("  sandbox → {phone}: {text}", phone=masker.phone(phone), text=text))
        extra = len(messages) - SHOWN_INBOX
        if extra > 0:
            console.info(tr("  sandbox → … and {n:,} more messages", n=extra))


class _NoSandbox:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def sandbox_for(enabled: bool, console: Output) -> Any:
    """A context manager giving a :class:`Throwaway` sandbox, or None when not enabled."""
    return Throwaway(console) if enabled else _NoSandbox()


def run_sandbox(output: Output, options: SandboxOptions) -> ExitCode:
    """Serve the sandbox in the foreground until Ctrl-C or SIGTERM."""
    import sys

    from usms_cli import sandbox as sb
    from usms_cli.core.phones import normalize

    config = sb.config_from_options(options, normalize_phone=normalize)
    host, port = options.host, options.port
    try:
        return ExitCode(sb.serve_forever(config, host, port, sys.stdout))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(
            tr(
                "cannot listen on {host}:{port} ({problem})",
                host=host,
                port=port,
                problem=exc.strerror or exc,
            ),
            hint=tr("pick another --port, or --port 0 for a free one"),
        ) from None


def simulate_reply(output: Output, url: str, phone: str, text: str) -> ExitCode:
    """``usms sandbox reply``: ask the sandbox at ``url`` to push a reply from ``phone``."""
    import json
    import urllib.error
    import urllib.request

    from usms_cli.core.errors import InputError
    from usms_cli.core.phones import InvalidPhone, normalize
    from usms_cli.sandbox.pushes import CONTROL_REPLY

    try:
        wire = normalize(phone)
    except InvalidPhone as exc:
        raise InputError(tr("NUMBER {phone}: {why}", phone=repr(phone), why=exc)) from None
    if not text.strip():
        raise InputError(tr("TEXT is empty: give the reply, e.g. TD"))
    output.add_masks([wire])
    body = json.dumps({"phone": wire, "text": text}).encode("utf-8")
    request = urllib.request.Request(
        url.rstrip("/") + CONTROL_REPLY,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            raw = answer.read(65536)
    except urllib.error.HTTPError as exc:
        raw = exc.read(65536)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            tr("no sandbox answered at {url} ({why})", url=url, why=exc),
            hint=tr("start one: usms sandbox --push-to URL"),
        ) from None
    try:
        answer_json = json.loads(raw)
        ok = bool(answer_json["ok"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            tr("{url} is not a usms sandbox (it did not answer the reply)", url=url)
        ) from None
    if output.json_mode:
        output.json({**answer_json, "exit_code": 0 if ok else 4})
    elif ok:
        output.out.line(tr("Reply from {phone} pushed.", phone=output.masker.phone(wire)))
    if ok:
        return ExitCode.OK
    error = str(answer_json.get("error", "refused"))
    if "attempts" not in answer_json:  # refused by the sandbox: bad input or no --push-to
        raise InputError(error)
    if not output.json_mode:
        output.error(tr("the reply was not accepted by the push URL: {error}", error=error))
    return ExitCode.UNREACHABLE
