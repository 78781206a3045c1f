"""UCloud's shared profile files: ``~/.ucloud/config.json`` and ``~/.ucloud/credential.json``.

Both are JSON arrays written by UCloud's CLI (mode 0600), one object per profile::

    config.json      [{"profile": "default", "active": true, "project_id": "org-…",
                       "base_url": "https://api.ucloud.cn/", "timeout_sec": 15, "region": …, …}]
    credential.json  [{"profile": "default", "public_key": "…", "private_key": "…", …}]

Keys this module does not use (region, zone, max_retry_times, cookie, access_token, …) are
ignored and never read into messages. Errors name the file (and, for JSON syntax, the line and
column) but never quote its content: it may hold a private key. Reading only, nothing printed.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usms_cli.core.errors import ConfigError
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_, tr

CONFIG_ENV = "UCLOUD_SHARED_CONFIG_FILE"
CREDENTIAL_ENV = "UCLOUD_SHARED_CREDENTIAL_FILE"
PROFILE_ENV = "UCLOUD_PROFILE"
DEFAULT_PROFILE = "default"
MAX_FILE_SIZE = 1024 * 1024  # UCloud's files are a few hundred bytes; refuse anything huge

# setting name -> (file kind, key in the entry)
CONFIG_KEYS = {"project_id": "project_id", "base_url": "base_url", "timeout": "timeout_sec"}
CREDENTIAL_KEYS = {"public_key": "public_key", "private_key": "private_key"}

_FIX_HINT = N_(
    "UCloud's CLI writes this file (ucloud config); fix or remove it, or point {env} at "
    "another file"
)


@dataclass(frozen=True)
class ProfileFile:
    """Where one of the two files is, and why there."""

    kind: str  # "config" or "credential"
    path: Path
    source: str  # "default", "environment UCLOUD_SHARED_CONFIG_FILE", "./.env …"
    required: bool  # named explicitly: a missing file is an error

    @property
    def env_name(self) -> str:
        return CONFIG_ENV if self.kind == "config" else CREDENTIAL_ENV

    @property
    def shown(self) -> str:
        return display_path(self.path)


@dataclass(frozen=True)
class Profile:
    """The selected profile's values, each with its source label."""

    name: str | None  # None: no profile selected (no files, no active or "default" entry)
    how: str  # why this profile: "command line", "environment UCLOUD_PROFILE", …
    values: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    available: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def display_path(path: Path) -> str:
    """``~/…`` for paths under the home directory, the path as given otherwise."""
    try:
        home = Path.home()
    except RuntimeError:  # pragma: no cover - no HOME and no passwd entry
        return str(path)
    try:
        relative = path.relative_to(home)
    except ValueError:
        return str(path)
    return f"~/{relative.as_posix()}" if str(relative) != "." else "~"


def _shell_word(path: Path, shown: str) -> str:
    """``shown`` if a shell reads it back as ``path`` (``~/…`` included), else ``path`` quoted."""
    if shown.startswith("~/"):
        if shlex.quote(shown[2:]) == shown[2:]:
            return shown
    elif shlex.quote(shown) == shown:
        return shown
    return shlex.quote(str(path))


def permission_warning(path: Path, *, shown: str | None = None) -> str | None:
    """A warning when ``path`` (which holds a private key) is readable by group or others.

    ``shown`` is how to name the file (default: :func:`display_path`).
    """
    if os.name != "posix":  # pragma: no cover - modes mean nothing there
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    name = shown or display_path(path)
    return tr(
        "{file} is readable by other users (mode {mode:04o}) and holds a private key; "
        "run: chmod 600 {word}",
        file=name,
        mode=mode,
        word=_shell_word(path, name),
    )


def locate(
    kind: str, environ: Mapping[str, str], dotenv: Mapping[str, str], dotenv_label: str
) -> ProfileFile:
    """The config or credential file: ``UCLOUD_SHARED_*_FILE`` (env, then .env), else default."""
    env_name = CONFIG_ENV if kind == "config" else CREDENTIAL_ENV
    value = environ.get(env_name)
    if value:
        source = Phrase(N_("environment {var}"), var=env_name)
        return ProfileFile(kind, Path(value).expanduser(), source, True)
    value = dotenv.get(env_name)
    if value:
        source = Phrase(N_("{file} {var}"), file=dotenv_label, var=env_name)
        return ProfileFile(kind, Path(value).expanduser(), source, True)
    default = Phrase(N_("default"))
    return ProfileFile(kind, Path.home() / ".ucloud" / f"{kind}.json", default, False)


def read_entries(file: ProfileFile) -> list[dict[str, Any]] | None:
    """The JSON array of ``file``; ``None`` when a default file does not exist."""
    path = file.path
    hint = tr(_FIX_HINT, env=file.env_name)
    named = _named(file)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        if file.required:
            raise ConfigError(
                tr("{file}: no such file", file=named),
                hint=tr(
                    "create it with UCloud's CLI (ucloud init), or unset {env}", env=file.env_name
                ),
            ) from None
        return None
    except OSError as exc:
        reason = exc.strerror or tr("I/O error")
        message = tr("{file}: cannot access it ({reason})", file=named, reason=reason)
        raise ConfigError(message, hint=hint) from None
    if stat.S_ISDIR(mode):
        raise ConfigError(_not_the_file(file, named, N_("{file}: is a directory, not {what}")))
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        reason = exc.strerror or tr("I/O error")
        message = tr("{file}: cannot read it ({reason})", file=named, reason=reason)
        raise ConfigError(message, hint=hint) from None
    if len(raw) > MAX_FILE_SIZE:
        raise ConfigError(_not_the_file(file, named, N_("{file}: larger than 1 MiB; not {what}")))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(tr("{file}: not valid UTF-8 text", file=named), hint=hint) from None
    if not text.strip():
        return []  # an empty file holds no profiles
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg is the parser's description ("Expecting ',' delimiter"), never file content.
        raise ConfigError(
            tr(
                "{file}: not valid JSON (line {line}, column {column}: {problem})",
                file=named,
                line=exc.lineno,
                column=exc.colno,
                problem=exc.msg,
            ),
            hint=hint,
        ) from None
    if not isinstance(document, list):
        raise ConfigError(
            tr(
                "{file}: expected a JSON array of profiles, found {kind}",
                file=named,
                kind=_json_kind(document),
            ),
            hint=hint,
        )
    entries: list[dict[str, Any]] = []
    for index, entry in enumerate(document, start=1):
        _check_entry(file, entry, index, named, hint)
        entries.append(entry)
    return entries


def _named(file: ProfileFile) -> str:
    """The file as messages name it: ``~/x.json``, or ``x.json (from environment …)``."""
    if file.source == "default":
        return file.shown
    return tr("{path} (from {source})", path=file.shown, source=file.source)


def _not_the_file(file: ProfileFile, named: str, message: str) -> str:
    if file.kind == "config":
        what = tr("UCloud's config file")
    else:
        what = tr("UCloud's credential file")
    return tr(message, file=named, what=what)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return tr("an object")
    if isinstance(value, list):
        return tr("an array")
    if isinstance(value, str):
        return tr("a string")
    if isinstance(value, bool):
        return tr("true/false")
    if value is None:
        return tr("null")
    return tr("a number")


def _check_entry(file: ProfileFile, entry: Any, index: int, named: str, hint: str) -> None:
    where = tr("{file}: entry {index}", file=named, index=index)
    if not isinstance(entry, dict):
        raise ConfigError(
            tr("{where} must be a JSON object, found {kind}", where=where, kind=_json_kind(entry)),
            hint=hint,
        )
    profile = entry.get("profile")
    if not isinstance(profile, str) or not profile:
        raise ConfigError(
            tr('{where} has no "profile" name (a non-empty string)', where=where), hint=hint
        )
    strings = CONFIG_KEYS if file.kind == "config" else CREDENTIAL_KEYS
    for key in strings.values():
        if key == "timeout_sec":
            continue
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                tr(
                    '{where} (profile {profile}): "{key}" must be a string, found {kind}',
                    where=where,
                    profile=repr(profile),
                    key=key,
                    kind=_json_kind(value),
                ),
                hint=hint,
            )
    if file.kind == "config":
        timeout = entry.get("timeout_sec")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float))
        ):
            raise ConfigError(
                tr(
                    '{where} (profile {profile}): "timeout_sec" must be a number of seconds, '
                    "found {kind}",
                    where=where,
                    profile=repr(profile),
                    kind=_json_kind(timeout),
                ),
                hint=hint,
            )
        active = entry.get("active")
        if active is not None and not isinstance(active, bool):
            raise ConfigError(
                tr(
                    '{where} (profile {profile}): "active" must be true or false, found {kind}',
                    where=where,
                    profile=repr(profile),
                    kind=_json_kind(active),
                ),
                hint=hint,
            )


def _find(entries: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The first entry named ``name`` (UCloud's CLI never writes two)."""
    return next((entry for entry in entries if entry.get("profile") == name), None)


def _names(*lists: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(e["profile"]) for entries in lists for e in entries))


def load_profile(
    requested: str | None,
    requested_source: str,
    config_file: ProfileFile,
    credential_file: ProfileFile,
) -> Profile:
    """Read both files and pick the profile.

    ``requested`` is the name from ``--profile`` or ``UCLOUD_PROFILE`` (``requested_source``
    says which); without it the entry marked ``"active": true`` in config.json is used, else
    the one named ``default``. A requested name that neither file holds is an error.
    """
    config_entries = read_entries(config_file)
    credential_entries = read_entries(credential_file)
    configs = config_entries or []
    credentials = credential_entries or []
    available = _names(configs, credentials)
    warnings: list[str] = []
    if any(entry.get("private_key") for entry in credentials):
        warning = permission_warning(credential_file.path)
        if warning:
            warnings.append(warning)

    name: str | None
    if requested:
        name, how = requested, requested_source
        if name not in available:
            _not_found(
                name,
                requested_source,
                config_file,
                credential_file,
                available,
                config_entries,
                credential_entries,
            )
    else:
        active = next((entry for entry in configs if entry.get("active") is True), None)
        if active is not None:
            name = str(active["profile"])
            how = Phrase(N_("active in {file}"), file=config_file.shown)
        elif DEFAULT_PROFILE in available:
            name, how = DEFAULT_PROFILE, Phrase(N_("default (no profile is marked active)"))
        else:
            name, how = None, Phrase(N_("not set"))

    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    if name is not None:
        for file, entries, keys in (
            (config_file, configs, CONFIG_KEYS),
            (credential_file, credentials, CREDENTIAL_KEYS),
        ):
            entry = _find(entries, name)
            if entry is None:
                continue
            for setting, key in keys.items():
                value = _setting_value(setting, entry.get(key))
                if value:
                    values[setting] = value
                    sources[setting] = Phrase(
                        N_("profile {name} ({file})"), name=repr(name), file=file.shown
                    )
    return Profile(
        name=name,
        how=how,
        values=values,
        sources=sources,
        available=available,
        warnings=tuple(warnings),
    )


def _not_found(
    name: str,
    requested_source: str,
    config_file: ProfileFile,
    credential_file: ProfileFile,
    available: Sequence[str],
    config_entries: list[dict[str, Any]] | None,
    credential_entries: list[dict[str, Any]] | None,
) -> None:
    """The error for a requested profile that neither file holds."""
    if available:
        names = ", ".join(repr(n) for n in available)
        listing = tr("profiles there: {names}", names=names)
    elif config_entries is None and credential_entries is None:
        listing = tr("neither file exists")
    else:
        listing = tr("they hold no profiles")
    raise ConfigError(
        tr(
            "profile {name} (from {source}) not found in {config} and {credential}; {listing}",
            name=repr(name),
            source=requested_source,
            config=config_file.shown,
            credential=credential_file.shown,
            listing=listing,
        ),
        hint=tr(
            "pick one of those with --profile NAME or UCLOUD_PROFILE, or create it "
            "with UCloud's CLI (ucloud config add)"
        ),
    )


def _setting_value(setting: str, value: Any) -> str | None:
    """A file value as the text the other layers use; empty and zero mean "not set"."""
    if value is None or value == "" or value == 0:
        return None
    if setting == "timeout":
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value).strip()
    if setting == "base_url" and text.endswith("/"):
        text = text[:-1]  # UCloud's CLI stores https://api.ucloud.cn/
    return text or None
