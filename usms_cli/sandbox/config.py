"""What a sandbox is set up with: its templates, signatures, keys and misbehaviour knobs,
read from a TOML file or from ``usms sandbox`` options, and checked once."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from usms_cli.core.errors import ConfigError, InputError
from usms_cli.i18n import N_, tr

DEFAULT_PUBLIC_KEY = "usms-sandbox-public-key"
DEFAULT_PRIVATE_KEY = "usms-sandbox-private-key"
DEFAULT_PROJECT_ID = "org-sandbox"
DEFAULT_TEMPLATE_ID = "UTSANDBOX1"
DEFAULT_TEMPLATE_TEXT = "您的验证码是{1}，5分钟内有效。"
DEFAULT_SIGNATURE = "USMSSandbox"
DEFAULT_SIG_ID = "SIGSANDBOX1"
DEFAULT_PORT = 8040
"""Port used by ``serve_forever`` when the caller does not choose one."""

BATCH_PARTIAL_RETCODE = 18046
STATUS_UNDER_REVIEW = 1
STATUS_APPROVED = 2
STATUS_REJECTED = 3
RECEIPT_LANGUAGES = ("en", "zh")
_PURPOSES = (1, 2, 3)
_STATUSES = (0, 1, 2, 3, 4)


class _Review:
    """Review state of a template or signature: one created or updated is under review until
    ``review_at`` (a ``time.monotonic()`` value), then approved, or rejected with ``verdict``
    as its ErrDesc."""

    status: int
    err_desc: str
    review_at: float | None
    verdict: str

    def settle(self, now: float) -> None:
        if self.review_at is not None and now >= self.review_at:
            self.status = STATUS_REJECTED if self.verdict else STATUS_APPROVED
            self.err_desc = self.verdict
            self.review_at = None

    def submit(self, now: float, delay: float, verdict: str) -> None:
        self.status, self.err_desc = STATUS_UNDER_REVIEW, ""
        self.review_at, self.verdict = now + delay, verdict
        self.settle(now)


@dataclass
class Template(_Review):
    """An SMS template as the sandbox knows it (status 2 = approved)."""

    template_id: str
    text: str
    purpose: int = 2
    status: int = STATUS_APPROVED
    name: str = ""
    remark: str = ""
    err_desc: str = ""
    unsubscribe: str = ""
    instruction: str = ""
    international: bool = False
    create_time: int = 0
    review_at: float | None = None
    verdict: str = ""


@dataclass
class Signature(_Review):
    """An SMS signature, keyed by its content (status 2 = approved)."""

    sig_id: str
    content: str
    status: int = STATUS_APPROVED
    err_desc: str = ""
    sig_type: int = 0
    purpose: int = 0
    review_at: float | None = None
    verdict: str = ""


def default_templates() -> dict[str, Template]:
    """The templates every sandbox starts with."""
    template = Template(
        DEFAULT_TEMPLATE_ID,
        DEFAULT_TEMPLATE_TEXT,
        purpose=1,
        name="Sandbox verification code",
    )
    return {template.template_id: template}


def default_signatures() -> dict[str, Signature]:
    """The signatures every sandbox starts with (keyed by content)."""
    sig = Signature(DEFAULT_SIG_ID, DEFAULT_SIGNATURE)
    return {sig.content: sig}


@dataclass
class SandboxConfig:
    """Everything a sandbox needs; the defaults give a working, approved template and signature.

    The running server reads these fields on every request, so tests may change them on the fly.
    """

    public_key: str = DEFAULT_PUBLIC_KEY
    private_key: str = DEFAULT_PRIVATE_KEY
    project_id: str = DEFAULT_PROJECT_ID
    templates: dict[str, Template] = field(default_factory=default_templates)
    signatures: dict[str, Signature] = field(default_factory=default_signatures)
    latency_ms: int = 0
    """Sleep this long before every answer."""
    fail_rate: float = 0.0
    """Fraction of valid SendUSMSMessage requests refused with RetCode 18004."""
    fail_numbers: set[str] = field(default_factory=set)
    """Numbers whose receipt is always Fail (wire form; "138…" also matches "(86)138…")."""
    refuse_numbers: set[str] = field(default_factory=set)
    """Numbers SendBatchUSMSMessage refuses by name in FailContent ("phone in the black list");
    the other targets of the request are accepted (wire form, matched like fail_numbers)."""
    batch_partial_ret_code: int = BATCH_PARTIAL_RETCODE
    """RetCode of a SendBatchUSMSMessage answer where some targets were refused and some
    accepted (the real API uses 18046, and has been seen to answer 0 with FailContent)."""
    receipt_delay: float = 2.0
    """Seconds after a send before its receipts appear."""
    seed: int | None = None
    """Seed for the fail_rate randomness."""
    record_path: str | None = None
    """Append one JSON line per accepted message (per phone number) to this file."""
    display: bool = False
    """Show every accepted message on stderr as it arrives."""
    review_delay: float = 2.0
    """Seconds a created or updated template or signature stays under review."""
    balance: int | None = None
    """Messages (one per number) the account may still send; None: no limit. A send that
    needs more is refused with RetCode 18013, and accepted messages are taken off it."""
    blocked_words: set[str] = field(default_factory=set)
    """Words the carriers block: a message holding one is refused with RetCode 18023."""
    fail_codes: dict[str, str] = field(default_factory=dict)
    """ReceiptCode of a fail_number (by the number as listed there); default UNDELIVRD."""
    unknown_numbers: set[str] = field(default_factory=set)
    """Numbers whose receipt stays 'Unknow' / '状态未知' (matched like fail_numbers)."""
    receipt_language: str = "en"
    """ReceiptResult words: "en" Success/Fail/Unknow (sic), "zh" 发送成功/发送失败/状态未知."""
    push_to: str | None = None
    """POST each status report to this URL as UCloud does (sandbox/pushes.py); replies too."""
    push_retry_delay: float = 1.0
    """Seconds between the retries of a push that was not answered {"code":0}."""
    pull_enabled: bool = False
    """Answer PullUSMSReport (the real one is off until support enables it)."""


# --------------------------------------------------------------------------------------------
# The TOML file


def _config_error(path: str, where: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {where}: {problem}")


def _get_str(
    entry: Mapping[str, Any], key: str, path: str, where: str, *, required: bool, default: str = ""
) -> str:
    if key not in entry:
        if required:
            raise _config_error(path, where, tr("missing required key {key!r}", key=key))
        return default
    value = entry[key]
    if not isinstance(value, str):
        problem = tr("{key!r} must be a string, got {value!r}", key=key, value=value)
        raise _config_error(path, where, problem)
    if required and not value:
        raise _config_error(path, where, tr("{key!r} must not be empty", key=key))
    return value


def _get_int(
    entry: Mapping[str, Any],
    key: str,
    path: str,
    where: str,
    *,
    default: int,
    allowed: tuple[int, ...],
) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        choices = ", ".join(str(a) for a in allowed)
        problem = tr(
            "{key!r} must be one of {choices}, got {value!r}", key=key, choices=choices, value=value
        )
        raise _config_error(path, where, problem)
    return value


def _check_keys(entry: Mapping[str, Any], known: set[str], path: str, where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        problem = tr(
            "unknown key(s) {unknown} (known: {known})",
            unknown=", ".join(unknown),
            known=", ".join(sorted(known)),
        )
        raise _config_error(path, where, problem)


def _tables(document: Mapping[str, Any], name: str, path: str) -> list[Mapping[str, Any]]:
    raw = document.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValueError(
            tr(
                "{path}: {name!r} must be an array of tables, written [[{name}]]",
                path=path,
                name=name,
            )
        )
    return raw


def _template_entry(entry: Mapping[str, Any], path: str, number: int) -> Template:
    where = f"[[template]] #{number}"
    _check_keys(
        entry, {"id", "text", "purpose", "status", "name", "remark", "err_desc"}, path, where
    )
    return Template(
        template_id=_get_str(entry, "id", path, where, required=True),
        text=_get_str(entry, "text", path, where, required=True),
        purpose=_get_int(entry, "purpose", path, where, default=2, allowed=_PURPOSES),
        status=_get_int(entry, "status", path, where, default=STATUS_APPROVED, allowed=_STATUSES),
        name=_get_str(entry, "name", path, where, required=False),
        remark=_get_str(entry, "remark", path, where, required=False),
        err_desc=_get_str(entry, "err_desc", path, where, required=False),
    )


def _signature_entry(entry: Mapping[str, Any], path: str, number: int) -> Signature:
    where = f"[[signature]] #{number}"
    _check_keys(entry, {"content", "id", "status", "err_desc"}, path, where)
    return Signature(
        sig_id=_get_str(entry, "id", path, where, required=False, default=f"SIGFILE{number}"),
        content=_get_str(entry, "content", path, where, required=True),
        status=_get_int(entry, "status", path, where, default=STATUS_APPROVED, allowed=_STATUSES),
        err_desc=_get_str(entry, "err_desc", path, where, required=False),
    )


def load_config_file(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Template], dict[str, Signature]]:
    """Read templates and signatures from a small TOML file.

    ::

        [[template]]
        id = "UTA001"
        text = "Hello {1}"
        purpose = 2          # 1 verification code, 2 notification, 3 marketing
        status = 2           # 0 pending, 1 in review, 2 approved, 3 rejected, 4 disabled
        name = "greeting"
        remark = ""
        err_desc = ""

        [[signature]]
        content = "Acme"
        id = "SIG001"        # optional
        status = 2
        err_desc = ""

    Returns the default template and signature plus the file's entries (an entry with the same
    id or content replaces the default), ready for ``SandboxConfig(templates=..., signatures=...)``.
    Every problem, including an unreadable file, raises ``ValueError`` naming the file.
    """
    import tomllib  # only needed here

    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        reason = exc.strerror or exc
        raise ValueError(
            tr("{path}: cannot read sandbox config: {reason}", path=name, reason=reason)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(tr("{path}: not valid TOML: {reason}", path=name, reason=exc)) from exc

    _check_keys(document, {"template", "signature"}, name, tr("top level"))
    templates = default_templates()
    signatures = default_signatures()
    for number, entry in enumerate(_tables(document, "template", name), start=1):
        template = _template_entry(entry, name, number)
        templates[template.template_id] = template
    for number, entry in enumerate(_tables(document, "signature", name), start=1):
        sig = _signature_entry(entry, name, number)
        signatures[sig.content] = sig
    return templates, signatures


# --------------------------------------------------------------------------------------------
# Checks


def _out_of_range(config: SandboxConfig) -> list[str]:
    """The numeric knobs with an impossible value, by field name (one rule, two phrasings:
    :func:`check_config` for the library, :func:`config_from_options` for the flags)."""
    bad = []
    if not 0.0 <= config.fail_rate <= 1.0:
        bad.append("fail_rate")
    if config.latency_ms < 0:
        bad.append("latency_ms")
    if config.receipt_delay < 0:
        bad.append("receipt_delay")
    if config.review_delay < 0:
        bad.append("review_delay")
    if config.balance is not None and config.balance < 0:
        bad.append("balance")
    return bad


_RANGES = {
    "fail_rate": N_("{name} must be between 0 and 1, got {value}"),
    "latency_ms": N_("{name} must not be negative, got {value}"),
    "receipt_delay": N_("{name} must not be negative, got {value}"),
    "review_delay": N_("{name} must not be negative, got {value}"),
    "balance": N_("{name} must not be negative, got {value}"),
}


def check_config(config: SandboxConfig) -> None:
    """Raise ``ValueError`` for a config no sandbox can run with (checked at start)."""
    for name in _out_of_range(config):
        raise ValueError(tr(_RANGES[name], name=name, value=getattr(config, name)))
    if config.receipt_language not in RECEIPT_LANGUAGES:
        raise ValueError(
            tr(
                "receipt_language must be en or zh, got {value!r}",
                value=config.receipt_language,
            )
        )
    if config.record_path:
        try:
            with open(config.record_path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise ValueError(
                tr(
                    "{path}: cannot write the record file: {reason}",
                    path=config.record_path,
                    reason=exc.strerror or exc,
                )
            ) from exc


def check_loopback(host: str) -> None:
    """Raise ``ValueError`` unless ``host`` is a loopback address: nothing else may reach it."""
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            tr(
                "the sandbox only listens on this machine: host must be a loopback address "
                "such as 127.0.0.1, ::1 or localhost, not {host!r}",
                host=host,
            )
        )


# --------------------------------------------------------------------------------------------
# The options of ``usms sandbox``


def _add_option_entries(
    config: SandboxConfig,
    config_file: str | os.PathLike[str] | None,
    templates: Sequence[str],
    signatures: Sequence[str],
) -> None:
    """``--config``, ``--template ID=TEXT`` and ``--signature`` on top of the defaults."""
    if config_file is not None:
        try:
            loaded_templates, loaded_signatures = load_config_file(config_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(tr("sandbox config: {error}", error=exc)) from None
        config.templates.update(loaded_templates)
        config.signatures.update(loaded_signatures)
    for spec in templates:
        template_id, sep, text = spec.partition("=")
        if not sep or not template_id.strip() or not text:
            raise InputError(
                tr("--template {spec!r}: write it as ID=TEXT, e.g. 'UTA1=Hello {{1}}'", spec=spec)
            )
        config.templates[template_id.strip()] = Template(template_id.strip(), text)
    for content in signatures:
        config.signatures[content] = Signature(f"SIG-{content}", content)


@dataclass(frozen=True)
class SandboxOptions:
    """The options of ``usms sandbox``, as given on the command line."""

    host: str = "127.0.0.1"
    port: int = 8040
    public_key: str | None = None
    private_key: str | None = None
    config_file: str | os.PathLike[str] | None = None
    templates: Sequence[str] = ()
    signatures: Sequence[str] = ()
    latency_ms: int = 0
    fail_rate: float = 0.0
    fail_numbers: Sequence[str] = ()
    receipt_delay: float = 2.0
    record: str | os.PathLike[str] | None = None
    display: bool = True
    review_delay: float = 2.0
    balance: int | None = None
    blocked_words: Sequence[str] = ()
    unknown_numbers: Sequence[str] = ()
    receipt_language: str = "en"
    push_to: str | None = None
    pull: bool = False


def config_from_options(
    options: SandboxOptions, normalize_phone: Callable[[str], str]
) -> SandboxConfig:
    """The config ``usms sandbox`` serves, from its options; raise InputError/ConfigError
    (exit 2) with a sentence naming the flag.

    ``normalize_phone`` reads a ``--fail-number`` the way ``usms send`` reads a recipient
    (raising ``ValueError`` with the reason); it is passed in so that the sandbox does not
    import the client's phone rules.
    """
    config = SandboxConfig()
    if options.public_key:
        config.public_key = options.public_key
    if options.private_key:
        config.private_key = options.private_key
    _add_option_entries(config, options.config_file, options.templates, options.signatures)
    config.latency_ms = options.latency_ms
    config.fail_rate = options.fail_rate
    config.receipt_delay = options.receipt_delay
    config.review_delay = options.review_delay
    config.balance = options.balance
    bad = _out_of_range(config)
    if "fail_rate" in bad:
        raise InputError(tr("--fail-rate must be between 0 and 1"))
    if "latency_ms" in bad or "receipt_delay" in bad:
        raise InputError(tr("--latency and --receipt-delay must not be negative"))
    if bad:
        raise InputError(tr("--review-delay and --balance must not be negative"))
    if options.receipt_language not in RECEIPT_LANGUAGES:
        raise InputError(
            tr(
                "--receipt-language must be en or zh, not {value!r}",
                value=options.receipt_language,
            )
        )
    config.receipt_language = options.receipt_language
    config.blocked_words = {word for word in options.blocked_words if word.strip()}
    for flag, numbers, into in (
        ("--fail-number", options.fail_numbers, config.fail_numbers),
        ("--unknown-number", options.unknown_numbers, config.unknown_numbers),
    ):
        for spec in numbers:
            number, _, code = spec.partition("=") if flag == "--fail-number" else (spec, "", "")
            try:
                wire = normalize_phone(number)
            except ValueError as exc:
                raise InputError(f"{flag} {spec!r}: {exc}") from None
            into.add(wire)
            if code.strip():
                config.fail_codes[wire] = code.strip()
    config.record_path = os.fspath(options.record) if options.record else None
    config.display = options.display
    if options.push_to is not None:
        scheme = options.push_to.partition("://")[0].lower()
        if scheme not in ("http", "https") or len(options.push_to) <= len(scheme) + 3:
            raise InputError(f"--push-to {options.push_to!r}: give an http(s):// URL")
    config.push_to = options.push_to
    config.pull_enabled = options.pull
    return config
