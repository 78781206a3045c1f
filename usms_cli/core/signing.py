"""UCloud API request signing: pure functions, no I/O.

The recipe (see the project's API notes, section 1):

1. flatten the parameters into ``name -> str`` (lists become ``Name.0``, ``Name.1`` ...,
   dicts ``Name.Key``; booleans ``true``/``false``; whole floats lose their ``.0``);
2. add ``PublicKey``; ``Signature`` itself is never signed;
3. sort the keys by code point (so ``Name.10`` sorts before ``Name.2``);
4. concatenate ``key + value`` with no separators and no URL escaping, append the private key;
5. SHA-1 of the UTF-8 bytes, lower-case hex.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = ["flatten", "string_to_sign", "sign", "signed_params", "verify"]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


@lru_cache(maxsize=64)
def _indexed_keys(name: str, count: int) -> tuple[str, ...]:
    return tuple(f"{name}.{index}" for index in range(count))


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten nested parameters the way UCloud's form encoding does.

    ``None`` values are dropped (they are not sent, so they must not be signed);
    empty strings are kept.
    """
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if value is None:
            continue
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        elif isinstance(value, (list, tuple)):
            if all(type(item) is str for item in value):  # phone numbers, params: the hot path
                flat.update(zip(_indexed_keys(name, len(value)), value, strict=True))
                continue
            for index, item in enumerate(value):
                item_name = f"{name}.{index}"
                if isinstance(item, Mapping):
                    flat.update(flatten(item, prefix=f"{item_name}."))
                elif item is not None:
                    flat[item_name] = _scalar(item)
        else:
            flat[name] = _scalar(value)
    return flat


def string_to_sign(flat: Mapping[str, str], private_key: str) -> str:
    """The exact text that is hashed: sorted ``key+value`` pairs, then the private key."""
    parts: list[str] = []
    for key in sorted(flat):
        if key != "Signature":
            parts += (key, flat[key])
    parts.append(private_key)
    return "".join(parts)


def sign(flat: Mapping[str, str], private_key: str) -> str:
    """Signature of already-flattened parameters (``PublicKey`` must already be in them)."""
    return hashlib.sha1(string_to_sign(flat, private_key).encode("utf-8")).hexdigest()


def signed_params(params: Mapping[str, Any], public_key: str, private_key: str) -> dict[str, str]:
    """Flatten ``params``, add ``PublicKey`` and ``Signature``: the exact form for the wire."""
    flat = flatten(params)
    flat.pop("Signature", None)
    flat["PublicKey"] = public_key
    flat["Signature"] = sign(flat, private_key)
    return flat


def verify(flat: Mapping[str, str], private_key: str) -> bool:
    """True when ``flat['Signature']`` matches the other parameters (server side)."""
    import hmac

    given = flat.get("Signature", "").lower().encode("utf-8")
    return hmac.compare_digest(given, sign(flat, private_key).encode("ascii"))
