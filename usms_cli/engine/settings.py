"""Settings resolution: command-line flag > environment > ``.env`` file > UCloud profile > default.

Each resolved value remembers where it came from, so messages can say "UCLOUD_PRIVATE_KEY from
./.env" without ever showing the value. Pure except for reading the ``.env`` file and UCloud's
profile files (``usms_cli.engine.profiles``); warnings (a private key in a file others can read) are
returned in ``Settings.warnings`` for the caller to print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from usms_cli.core import shapes
from usms_cli.core.errors import ConfigError
from usms_cli.core.shapes import clip, redact_url, shown
from usms_cli.engine import profiles
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_, tr

DEFAULT_BASE_URL = "https://api.ucloud.cn"
DEFAULT_TIMEOUT = 30.0

# setting name -> environment variables, first set wins
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "public_key": ("UCLOUD_PUBLIC_KEY",),
    "private_key": ("UCLOUD_PRIVATE_KEY",),
    "project_id": ("UCLOUD_PROJECT_ID",),
    "base_url": ("UCLOUD_API_BASE_URL", "UCLOUD_BASE_URL"),
    "timeout": ("UCLOUD_TIMEOUT_SECOND",),
    "template_id": ("USMS_TEMPLATE_ID",),
    "sig_content": ("USMS_SIG_CONTENT",),
}

DEFAULTS: dict[str, str] = {"base_url": DEFAULT_BASE_URL, "timeout": str(int(DEFAULT_TIMEOUT))}

# setting -> (what it is called, the flag that sets it, its shape check, may a message show it)
SHAPES: dict[str, tuple[str, str | None, Callable[[str], str | None], bool]] = {
    "public_key": (N_("the public key"), None, shapes.key_problem, False),
    "private_key": (N_("the private key"), None, shapes.key_problem, False),
    "project_id": (N_("the project id"), "--project-id", shapes.project_id_problem, True),
    "template_id": (N_("the template id"), "-t/--template-id", shapes.template_id_problem, True),
    "sig_content": (N_("the signature"), "-s/--sig-content", shapes.signature_problem, True),
}


@dataclass(frozen=True)
class Settings:
    """Everything a request needs. ``private_key`` is excluded from ``repr``."""

    public_key: str | None
    private_key: str | None = field(repr=False)
    project_id: str | None
    base_url: str
    timeout: float
    template_id: str | None
    sig_content: str | None
    sources: Mapping[str, str] = field(default_factory=dict)
    profile: str | None = None  # the UCloud profile consulted; its source is sources["profile"]
    profiles: tuple[str, ...] = ()  # every profile the files hold
    config_file: Path | None = None  # sources["config_file"] says why this path
    credential_file: Path | None = None  # sources["credential_file"]
    warnings: tuple[str, ...] = ()  # for the caller to print on stderr (never hold a secret)
    env_file: Path | None = None  # --env-file, when one was given


def read_env_file(
    path: Path, *, required: bool, warnings: list[str] | None = None, label: str | None = None
) -> dict[str, str]:
    """Values of a ``.env`` file (no interpolation, nothing put into ``os.environ``). Lines
    that cannot be read, and keys that look like a misspelt setting, become ``warnings``."""
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as exc:  # e.g. a parent directory without search permission
        reason = exc.strerror or tr("I/O error")
        raise ConfigError(
            tr("{path}: cannot access it ({reason})", path=path, reason=reason)
        ) from None
    if not exists:
        if required:
            raise ConfigError(tr("--env-file {path}: no such file", path=path))
        return {}
    if is_dir:
        raise ConfigError(tr("{path}: is a directory, not a .env file", path=path))
    try:
        with path.open("rb") as handle:
            raw = handle.read()
    except OSError as exc:
        reason = exc.strerror or tr("I/O error")
        raise ConfigError(
            tr("{path}: cannot read it ({reason})", path=path, reason=reason)
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(tr("{path}: not valid UTF-8 text", path=path)) from None
    if "\x00" in text:
        raise ConfigError(tr("{path}: contains NUL bytes; not a .env file", path=path))
    import io
    import logging
    import re

    from dotenv import dotenv_values

    unread: list[int] = []

    class Unread(logging.Handler):  # python-dotenv logs the lines it cannot parse
        def emit(self, record: logging.LogRecord) -> None:
            match = re.search(r"line (\d+)", record.getMessage())
            if match:
                unread.append(int(match.group(1)))

    handler = Unread(logging.WARNING)
    logger = logging.getLogger("dotenv.main")
    logger.addHandler(handler)
    try:
        values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    finally:
        logger.removeHandler(handler)
    name = label or str(path)
    if warnings is not None:
        for line in unread:
            warnings.append(
                tr(
                    "{file}: line {line} could not be read (write it as KEY=value); it is ignored",
                    file=name,
                    line=line,
                )
            )
        warnings.extend(misspelt_keys(values, name))
    return {key: value for key, value in values.items() if value is not None}


# Every variable usms reads; a .env key close to one of these but not equal is a likely typo.
KNOWN_VARIABLES = (
    *(var for names in ENV_NAMES.values() for var in names),
    "UCLOUD_PROFILE",
    "UCLOUD_SHARED_CONFIG_FILE",
    "UCLOUD_SHARED_CREDENTIAL_FILE",
    "USMS_CONFIRM_ABOVE",
    "USMS_HISTORY",
    "USMS_LANG",
)


def misspelt_keys(values: Mapping[str, object], label: str) -> list[str]:
    """A warning for each key that is not a setting but is close to one."""
    import difflib

    found = []
    for key in values:
        if key in KNOWN_VARIABLES:
            continue
        close = difflib.get_close_matches(key.upper(), KNOWN_VARIABLES, n=1, cutoff=0.85)
        if close:
            found.append(
                tr(
                    "{file}: {key} is not a setting usms reads; did you mean {name}?",
                    file=label,
                    key=key,
                    name=close[0],
                )
            )
    return found


# Where a setting came from: English data (``usms config --json``, comparisons) that reads in
# the run's language where it is shown (usms_cli.engine.phrases).
COMMAND_LINE = Phrase(N_("command line"))
DEFAULT = Phrase(N_("default"))
NOT_SET = Phrase(N_("not set"))


def from_environment(var: str) -> Phrase:
    return Phrase(N_("environment {var}"), var=var)


def from_file(label: str, var: str) -> Phrase:
    """``./.env UCLOUD_PUBLIC_KEY``: the variable ``var`` in the .env file ``label``."""
    return Phrase(N_("{file} {var}"), file=label, var=var)


def _pick(
    name: str,
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    dotenv_label: str,
    profile: profiles.Profile | None = None,
) -> tuple[str | None, str]:
    flag = flags.get(name)
    if flag is not None and flag != "":
        return flag, COMMAND_LINE
    for var in ENV_NAMES.get(name, ()):
        value = environ.get(var)
        if value:
            return value, from_environment(var)
    for var in ENV_NAMES.get(name, ()):
        value = dotenv.get(var)
        if value:
            return value, from_file(dotenv_label, var)
    if profile is not None and profile.values.get(name):
        return profile.values[name], profile.sources[name]
    if name in DEFAULTS:
        return DEFAULTS[name], DEFAULT
    return None, NOT_SET


def _requested_profile(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    dotenv_label: str,
) -> tuple[str | None, str]:
    """``--profile``, else ``UCLOUD_PROFILE`` from the environment, else from the .env file."""
    flag = flags.get("profile")
    var = profiles.PROFILE_ENV
    if flag:
        name, source = flag, Phrase("--profile")
    elif environ.get(var):
        name, source = environ[var], from_environment(var)
    elif dotenv.get(var):
        name, source = dotenv[var], from_file(dotenv_label, var)
    else:
        return None, NOT_SET
    problem = shapes.profile_name_problem(name)
    if problem:
        raise ConfigError(
            tr(
                "the profile name from {source} {problem}: {name}",
                source=source,
                problem=problem,
                name=shown(name),
            )
        )
    return name, source


def check_shapes(values: Mapping[str, str | None], sources: Mapping[str, str]) -> None:
    """Refuse a setting outside its documented shape (exit 2) before anything is sent."""
    for name, (label, flag, problem_of, showable) in SHAPES.items():
        value = values.get(name)
        if not value:
            continue
        problem = problem_of(value)
        if problem:
            source = sources.get(name, NOT_SET)
            if source == "command line" and flag:
                text = tr(
                    "{setting} ({flag}) {problem}", setting=tr(label), flag=flag, problem=problem
                )
            else:
                text = tr(
                    "{setting} (from {source}) {problem}",
                    setting=tr(label),
                    source=source,
                    problem=problem,
                )
            raise ConfigError(
                tr("{problem}: {value}", problem=text, value=shown(value)) if showable else text
            )


def resolve(
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    env_file: Path | None,
    cwd: Path,
) -> Settings:
    """Resolve every setting.

    ``env_file`` is ``--env-file``; without it ``cwd/.env`` is read if present. After the .env
    layer comes the UCloud profile (``flags["profile"]``, ``UCLOUD_PROFILE``, else the active
    one) from ``~/.ucloud/config.json`` and ``credential.json``.
    """
    warnings: list[str] = []
    if env_file is not None:
        dotenv_path = env_file
        label = str(env_file)
        dotenv = read_env_file(env_file, required=True, warnings=warnings, label=label)
    else:
        dotenv_path = cwd / ".env"
        label = "./.env"
        dotenv = read_env_file(dotenv_path, required=False, warnings=warnings, label=label)
    if dotenv.get("UCLOUD_PRIVATE_KEY"):
        warning = profiles.permission_warning(dotenv_path, shown=label)
        if warning:
            warnings.append(warning)

    requested, requested_source = _requested_profile(flags, environ, dotenv, label)
    config_file = profiles.locate("config", environ, dotenv, label)
    credential_file = profiles.locate("credential", environ, dotenv, label)
    try:
        profile = profiles.load_profile(requested, requested_source, config_file, credential_file)
    except ConfigError as broken:
        # A broken profile file matters only when a profile is used: one was asked for, or
        # a setting the environment and .env leave unset would come from it.
        needed = ("public_key", "private_key", "project_id")
        unset = [n for n in needed if not any(_pick(n, flags, environ, dotenv, label)[0:1])]
        if requested or unset:
            raise
        warnings.append(
            tr("{problem} (not needed: every setting is given elsewhere)", problem=broken.message)
        )
        profile = profiles.Profile(None, Phrase(N_("not used")))
    warnings.extend(w for w in profile.warnings if w not in warnings)

    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for name in ENV_NAMES:
        values[name], sources[name] = _pick(name, flags, environ, dotenv, label, profile)
    sources["profile"] = profile.how
    sources["config_file"] = config_file.source
    sources["credential_file"] = credential_file.source
    try:
        base_url = check_base_url(values["base_url"] or DEFAULT_BASE_URL)
    except ConfigError as exc:
        if sources["base_url"] in {"command line", "default"}:
            raise
        message = tr("{problem} (from {source})", problem=exc.message, source=sources["base_url"])
        raise ConfigError(message, hint=exc.hint) from None
    check_shapes(values, sources)
    timeout = parse_timeout(values["timeout"] or str(DEFAULT_TIMEOUT), sources["timeout"])
    return Settings(
        public_key=values["public_key"],
        private_key=values["private_key"],
        project_id=values["project_id"],
        base_url=base_url,
        timeout=timeout,
        template_id=values["template_id"],
        sig_content=values["sig_content"],
        sources=sources,
        profile=profile.name,
        profiles=profile.available,
        config_file=config_file.path,
        credential_file=credential_file.path,
        warnings=tuple(warnings),
        env_file=env_file,
    )


def parse_timeout(text: str, source: str = "--timeout") -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            tr("timeout from {source} is not a number: {value}", source=source, value=shown(text))
        ) from None
    if not math.isfinite(value) or value <= 0 or value > 600:
        raise ConfigError(
            tr(
                "timeout from {source} must be between 0 and 600 seconds, got {value}",
                source=source,
                value=shown(text),
            )
        )
    return value


def check_base_url(url: str) -> str:
    """Accept ``https://host[:port][/path]``; ``http://`` only for a literal loopback address,
    ``localhost`` (checked again after resolution when connecting) and UCloud's VPC endpoint.

    Messages never repeat user-info or query values, and cut the URL short."""
    url = url.strip()
    echo = shown(redact_url(url))
    if len(url) > shapes.MAX_BASE_URL:
        raise ConfigError(
            tr(
                "base URL {url} is {length:,} characters long; at most {limit}",
                url=echo,
                length=len(url),
                limit=shapes.MAX_BASE_URL,
            )
        )
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ConfigError(tr("base URL {url} contains spaces or control characters", url=echo))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(tr("base URL {url} is not a valid URL", url=echo)) from None
    host = parts.hostname or ""
    if host and not host.startswith("[") and ":" not in host:
        labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
        if any(not label for label in labels):
            raise ConfigError(
                tr("base URL {url} is not a valid URL (empty part in the host name)", url=echo)
            )
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            tr("base URL {url} must look like https://api.ucloud.cn", url=echo),
            hint=tr("set --base-url or UCLOUD_API_BASE_URL to an https:// URL"),
        )
    if parts.username or parts.password:
        raise ConfigError(tr("base URL {url} must not contain a user name or password", url=echo))
    if parts.query or parts.fragment:
        raise ConfigError(tr("base URL {url} must not have a query string or fragment", url=echo))
    if (
        parts.scheme == "http"
        and not shapes.is_loopback_host(parts.hostname)
        and not shapes.is_vpc_endpoint(parts.scheme, parts.hostname, parts.port)
    ):
        raise ConfigError(
            tr(
                "refusing plain http:// to {host}: the request carries your signature and "
                "recipients, so it must use https:// (http is allowed only for 127.0.0.1, ::1, "
                "localhost and UCloud's VPC endpoint http://{vpc})",
                host=clip(parts.hostname),
                vpc=shapes.VPC_HOST,
            )
        )
    return url
