"""Signatures before they reach USMS: the words for SigType, SigPurpose and CertificateType,
the local checks (2-12 characters without 【】, a qualification file of at most 4 MiB), the
file as the API takes it (base64), and the Create/Update/Delete requests. Pure."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from usms_cli.core.errors import InputError
from usms_cli.i18n import tr

MIN_CONTENT = 2
MAX_CONTENT = 12
MAX_FILE_BYTES = 4 * 1024 * 1024  # "文件大小不超过4 MB", before base64
MAX_DESCRIPTION = 128

# SigType: what the signature names (the docs' order). CertificateType must match it, so it
# defaults to the same number (0 licence, 1 app store screenshot, 2 ICP filing, 3 account
# screenshot, 4 trademark certificate, 5 organisation code).
SIG_TYPES: Mapping[str, int] = {
    "company": 0,
    "app": 1,
    "website": 2,
    "official-account": 3,
    "trademark": 4,
    "government": 5,
}
SIG_PURPOSES: Mapping[str, int] = {"self": 0, "other": 1}
CERTIFICATE_TYPES = range(6)

_MIME = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".pdf": "application/pdf",
}


def _choice(value: str | int, words: Mapping[str, int], flag: str) -> int:
    text = str(value).strip().lower().replace("_", "-")
    if text in words:
        return words[text]
    if text.isdigit() and int(text) in words.values():
        return int(text)
    raise InputError(
        tr(
            "{flag} must be one of {choices}, got {value!r}",
            flag=flag,
            choices=", ".join(words),
            value=value,
        )
    )


def parse_type(value: str | int) -> int:
    return _choice(value, SIG_TYPES, "--type")


def parse_purpose(value: str | int) -> int:
    return _choice(value, SIG_PURPOSES, "--purpose")


def parse_certificate_type(value: int | None, sig_type: int) -> int:
    chosen = sig_type if value is None else value
    if chosen not in CERTIFICATE_TYPES:
        raise InputError(tr("--certificate-type must be 0 to 5, got {chosen}", chosen=chosen))
    return chosen


def content_problems(content: str) -> list[str]:
    """Why the API would refuse this signature text (empty: nothing found)."""
    text = content.strip()
    problems: list[str] = []
    if any(ch in text for ch in "【】[]"):
        problems.append(tr("write the signature without 【】 or []: the service adds them"))
    if not MIN_CONTENT <= len(text) <= MAX_CONTENT:
        problems.append(
            tr(
                "a signature has {low} to {high} characters, this has {length}",
                low=MIN_CONTENT,
                high=MAX_CONTENT,
                length=len(text),
            )
        )
    if any(not ch.isprintable() for ch in text):
        problems.append(tr("the signature holds control characters"))
    return problems


@dataclass(frozen=True)
class Attachment:
    """A qualification file: its name (for messages and the MIME type) and its bytes."""

    name: str
    data: bytes

    def problem(self, flag: str) -> str | None:
        if not self.data:
            return tr("{flag} {name}: the file is empty", flag=flag, name=self.name)
        if len(self.data) > MAX_FILE_BYTES:
            return tr(
                "{flag} {name}: {size:,} bytes; the API takes files of at most "
                "4 MiB ({limit:,} bytes)",
                flag=flag,
                name=self.name,
                size=len(self.data),
                limit=MAX_FILE_BYTES,
            )
        return None

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url_body(self) -> str:
        """``image/jpeg;base64,…``: the form UpdateUSMSSignature documents for its files."""
        suffix = self.name[self.name.rfind(".") :].lower() if "." in self.name else ""
        mime = _MIME.get(suffix, "application/octet-stream")
        return f"{mime};base64,{self.base64()}"


@dataclass(frozen=True)
class SignatureSpec:
    """What CreateUSMSSignature (or, with an id, UpdateUSMSSignature) is given."""

    content: str
    sig_type: int
    purpose: int
    certificate_type: int
    description: str | None = None
    file: Attachment | None = None
    proxy_file: Attachment | None = None
    international: bool = False
    qualification_id: str | None = None
    scene: str | None = None

    def problems(self) -> list[str]:
        problems = content_problems(self.content)
        for attachment, flag in ((self.file, "--file"), (self.proxy_file, "--proxy-file")):
            problem = attachment.problem(flag) if attachment is not None else None
            if problem:
                problems.append(problem)
        if self.description is not None and len(self.description) > MAX_DESCRIPTION:
            problems.append(
                tr("the description is longer than {limit} characters", limit=MAX_DESCRIPTION)
            )
        return problems

    def create_problems(self) -> list[str]:
        """As :meth:`problems`, plus what only a new signature needs."""
        problems = self.problems()
        if self.purpose == SIG_PURPOSES["other"] and self.proxy_file is None:
            problems.append(
                tr(
                    "a signature used for someone else (--purpose other) needs their letter of "
                    "authorisation (--proxy-file FILE)"
                )
            )
        return problems


def _with_project(action: str, project_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"Action": action}
    if project_id:
        params["ProjectId"] = project_id
    return params


def build_create(spec: SignatureSpec, project_id: str | None) -> dict[str, Any]:
    params = _with_project("CreateUSMSSignature", project_id)
    params.update(
        SigContent=spec.content.strip(),
        SigType=spec.sig_type,
        SigPurpose=spec.purpose,
        CertificateType=spec.certificate_type,
        Description=spec.description or "",
    )
    # CreateUSMSSignature documents File/ProxyFile as plain base64 of the file.
    if spec.file is not None:
        params["File"] = spec.file.base64()
    if spec.proxy_file is not None:
        params["ProxyFile"] = spec.proxy_file.base64()
    if spec.international:
        params["International"] = True
    if spec.qualification_id:
        params["QualificationId"] = spec.qualification_id
    if spec.scene:
        params["SceneDesc"] = spec.scene
    return params


def build_update(sig_id: str, spec: SignatureSpec, project_id: str | None) -> dict[str, Any]:
    params = _with_project("UpdateUSMSSignature", project_id)
    params.update(
        SigId=sig_id,
        SigContent=spec.content.strip(),
        SigType=spec.sig_type,
        SigPurpose=spec.purpose,
        CertificateType=spec.certificate_type,
    )
    # UpdateUSMSSignature documents its files as "[file type];[code type],[base64]".
    if spec.file is not None:
        params["File"] = spec.file.data_url_body()
    if spec.proxy_file is not None:
        params["ProxyFile"] = spec.proxy_file.data_url_body()
    if spec.scene:
        params["SceneDesc"] = spec.scene
    return params


def build_delete(sig_ids: Sequence[str], project_id: str | None) -> dict[str, Any]:
    params = _with_project("DeleteUSMSSignature", project_id)
    params["SigIds"] = list(sig_ids)
    return params
