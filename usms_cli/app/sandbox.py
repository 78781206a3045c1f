"""The sandbox as a use case: ``usms sandbox`` in the foreground, and the throwaway sandbox
that ``usms send --sandbox`` starts, points the settings at and shows the inbox of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ConfigError, ExitCode, InputError

if TYPE_CHECKING:
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

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
            f"Sandbox: a local USMS endpoint at {self.server.base_url} "
            "(nothing leaves this machine)"
        )

    def __enter__(self) -> Throwaway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    def point(self, settings: Settings) -> Settings:
        """``settings`` aimed at this sandbox: its URL, keys and project; its default
        template and signature unless others are configured."""
        from usms_cli.sandbox import DEFAULT_SIGNATURE, DEFAULT_TEMPLATE_ID

        config = self.server.config
        return replace(
            settings,
            base_url=self.server.base_url,
            public_key=config.public_key,
            private_key=config.private_key,
            project_id=config.project_id,
            template_id=settings.template_id or DEFAULT_TEMPLATE_ID,
            sig_content=settings.sig_content or DEFAULT_SIGNATURE,
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
            console.info(f"  sandbox → {masker.phone(phone)}: {text}")
        extra = len(messages) - SHOWN_INBOX
        if extra > 0:
            console.info(f"  sandbox → … and {extra:,} more messages")


class _NoSandbox:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def sandbox_for(enabled: bool, console: Output) -> Any:
    """A context manager giving a :class:`Throwaway` sandbox, or None when not enabled."""
    return Throwaway(console) if enabled else _NoSandbox()


@dataclass(frozen=True)
class SandboxOptions:
    """The options of ``usms sandbox``."""

    host: str = "127.0.0.1"
    port: int = 8040
    public_key: str | None = None
    private_key: str | None = None
    config_file: Path | None = None
    templates: Sequence[str] = ()
    signatures: Sequence[str] = ()
    latency_ms: int = 0
    fail_rate: float = 0.0
    fail_numbers: Sequence[str] = ()
    receipt_delay: float = 2.0
    record: Path | None = None
    display: bool = True


def run_sandbox(output: Output, options: SandboxOptions) -> ExitCode:
    """Serve the sandbox in the foreground until Ctrl-C or SIGTERM."""
    import sys

    host, port, public_key, private_key = (
        options.host,
        options.port,
        options.public_key,
        options.private_key,
    )
    config_file, templates, signatures = options.config_file, options.templates, options.signatures
    latency_ms, fail_rate, fail_numbers = (
        options.latency_ms,
        options.fail_rate,
        options.fail_numbers,
    )
    receipt_delay, record, display = options.receipt_delay, options.record, options.display

    from usms_cli import sandbox as sb
    from usms_cli.core.phones import InvalidPhone, normalize

    config = sb.SandboxConfig()
    if public_key:
        config.public_key = public_key
    if private_key:
        config.private_key = private_key
    if config_file is not None:
        try:
            loaded_templates, loaded_signatures = sb.load_config_file(str(config_file))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"sandbox config: {exc}") from None
        config.templates.update(loaded_templates)
        config.signatures.update(loaded_signatures)
    for spec in templates:
        template_id, sep, text = spec.partition("=")
        if not sep or not template_id.strip() or not text:
            raise InputError(f"--template {spec!r}: write it as ID=TEXT, e.g. 'UTA1=Hello {{1}}'")
        config.templates[template_id.strip()] = sb.Template(template_id.strip(), text)
    for content in signatures:
        config.signatures[content] = sb.Signature(f"SIG-{content}", content)
    if not 0 <= fail_rate <= 1:
        raise InputError("--fail-rate must be between 0 and 1")
    if latency_ms < 0 or receipt_delay < 0:
        raise InputError("--latency and --receipt-delay must not be negative")
    config.latency_ms = latency_ms
    config.fail_rate = fail_rate
    config.receipt_delay = receipt_delay
    for number in fail_numbers:
        try:
            config.fail_numbers.add(normalize(number))
        except InvalidPhone as exc:
            raise InputError(f"--fail-number {number!r}: {exc}") from None
    config.record_path = str(record) if record else None
    config.display = display
    try:
        return ExitCode(sb.serve_forever(config, host, port, sys.stdout))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            hint="pick another --port, or --port 0 for a free one",
        ) from None
