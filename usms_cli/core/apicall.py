"""``usms api``: ``Key=Value`` words and a JSON object of parameters turned into the form of any
UCloud action, encoded by the action table where it knows the action. Pure.

Rules (README "Templates, signatures, statistics, blacklist"):

- ``Key.N=value`` is always sent as written.
- For a parameter the table knows as a list, ``Key=value`` is one item; repeat it for more
  (``PhoneNumbers=138… PhoneNumbers=139…`` sends ``PhoneNumbers.0`` and ``.1``). A comma is
  never a separator: a template parameter may hold one. Both forms for one key is an error.
- A base64-JSON parameter (TaskContent, BlackList) given as JSON text (``[`` or ``{`` first)
  is encoded; any other value is taken as already encoded.
- int parameters must be whole numbers; bool parameters take true/false/1/0/yes/no.
- ``Action``, ``PublicKey``, ``Signature`` and ``PrivateKey`` cannot be given: usms adds the
  first three, and the private key is never a parameter.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from usms_cli.core.actions import ACTIONS, Action, Param
from usms_cli.core.errors import InputError
from usms_cli.i18n import N_, tr

FORBIDDEN = {
    "privatekey": N_("the private key is never a parameter: it only signs the request"),
    "signature": N_("usms signs the request itself"),
    "publickey": N_("the public key comes from your settings (UCLOUD_PUBLIC_KEY, .env, profile)"),
    "action": N_("give the action as the first argument: usms api ACTION Key=Value …"),
}

_ACTION = re.compile(r"[A-Z][A-Za-z0-9]{1,99}")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def check_action(name: str) -> str:
    if not _ACTION.fullmatch(name):
        raise InputError(
            tr("not an action name: {name!r}", name=name),
            hint=tr("for example: usms api QueryUSMSTemplate TemplateId=UTA1234"),
        )
    return name


def split_pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    """``Key=Value`` words as pairs (the value may hold ``=``); an InputError otherwise."""
    pairs: list[tuple[str, str]] = []
    for word in words:
        key, sep, value = word.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise InputError(
                tr("not a Key=Value parameter: {word!r}", word=word[:60]),
                hint=tr("write Name=value, or Name.0=value for an item of a list"),
            )
        pairs.append((key, value))
    return pairs


def _refuse_forbidden(keys: Sequence[str]) -> None:
    for key in keys:
        head = key.split(".", 1)[0].lower()
        if head in FORBIDDEN:
            raise InputError(
                tr(
                    "{key}= cannot be given to usms api: {why}; nothing sent",
                    key=key,
                    why=tr(FORBIDDEN[head]),
                )
            )


def _bool(value: str, key: str) -> str:
    text = value.strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    raise InputError(tr("{key} is true or false, got {value!r}", key=key, value=value))


def _int(value: str, key: str) -> str:
    text = value.strip()
    if re.fullmatch(r"-?[0-9]{1,18}", text):
        return str(int(text))
    raise InputError(tr("{key} is a whole number, got {value!r}", key=key, value=value))


def _b64json(value: Any, key: str) -> str:
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith(("[", "{")):
            return value  # already base64
        try:
            value = json.loads(text)
        except ValueError:
            raise InputError(
                tr("{key}: not valid JSON (it starts with {start!r})", key=key, start=text[:1])
            ) from None
    document = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(document.encode("utf-8")).decode("ascii")


def _scalar(param: Param | None, key: str, value: str) -> str:
    if param is None:
        return value
    if param.encoding == "int":
        return _int(value, key)
    if param.encoding == "bool":
        return _bool(value, key)
    if param.encoding == "b64json":
        return _b64json(value, key)
    return value


def _from_file(action: Action | None, document: Mapping[str, Any]) -> dict[str, str]:
    """The JSON object of ``--json-params``, flattened as the SDKs do (lists to ``Key.N``)."""
    from usms_cli.core.signing import flatten

    prepared: dict[str, Any] = {}
    for key, value in document.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InputError(tr("--json-params: not a parameter name: {key!r}", key=str(key)[:60]))
        param = action.param(key) if action is not None else None
        if param is not None and param.encoding == "b64json" and value is not None:
            value = _b64json(value, key)
        elif param is not None and param.encoding in ("int", "bool") and value is not None:
            if isinstance(value, bool) and param.encoding == "int":
                raise InputError(tr("{key} is a whole number, got {value!r}", key=key, value=value))
            value = _scalar(param, key, json.dumps(value) if not isinstance(value, str) else value)
        prepared[key] = value
    return flatten(prepared)


def _count_items(flat: Mapping[str, str], action: Action | None) -> None:
    if action is None:
        return
    for param in action.params:
        if param.encoding == "list" and param.max_items:
            count = sum(1 for key in flat if key.startswith(f"{param.name}."))
            if count > param.max_items:
                raise InputError(
                    tr(
                        "{count} items of {param}: {action} takes at most {limit} per request; "
                        "nothing sent",
                        count=count,
                        param=param.name,
                        action=action.name,
                        limit=param.max_items,
                    )
                )


def encode(
    action_name: str,
    pairs: Sequence[tuple[str, str]],
    document: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The flat form (without PublicKey and Signature) for ``action_name``: the JSON object
    first, then the pairs (a pair replaces what the object gave for the same key)."""
    action = ACTIONS.get(action_name)
    flat = _from_file(action, document) if document else {}
    _refuse_forbidden([*flat, *(key for key, _ in pairs)])
    listed: dict[str, list[str]] = {}
    for key, value in pairs:
        param = action.param(key) if action is not None else None
        if param is not None and param.encoding == "list":
            listed.setdefault(key, []).append(value)
            continue
        head = key.split(".", 1)[0]
        if "." in key and head in listed:
            raise InputError(
                tr("{key}: give either {key}=… words or {key}.N=…, not both", key=head)
            )
        flat[key] = _scalar(param, key, value)
    for key, values in listed.items():
        if any(k.startswith(f"{key}.") for k, _ in pairs):
            raise InputError(tr("{key}: give either {key}=… words or {key}.N=…, not both", key=key))
        for old in [k for k in flat if k.startswith(f"{key}.")]:
            del flat[old]  # the command line replaces the file's list
        flat.update({f"{key}.{index}": value for index, value in enumerate(values)})
    _count_items(flat, action)
    return {"Action": action_name, **flat}
