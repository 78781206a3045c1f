"""Templates and signatures in the sandbox: Create, Update, Delete and Query, each with its
review. A created or updated item is under review (status 1) for ``review_delay`` seconds,
then approved, or rejected with the reason a reviewer would give (rules.py)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from usms_cli.sandbox.config import STATUS_REJECTED, Signature, Template
from usms_cli.sandbox.rules import (
    MAX_TEMPLATE_CHARS,
    MAX_UPDATED_TEMPLATE_CHARS,
    SIG_PURPOSES,
    SIG_TYPES,
    file_problem,
    indexed,
    signature_fields_problem,
    signature_verdict,
    template_fields_problem,
    template_verdict,
)

if TYPE_CHECKING:
    from usms_cli.sandbox.backend import Backend, Reply

_NUMBERS = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}{int(time.time()) % 100000:05d}{next(_NUMBERS):06d}"


def _int(params: Mapping[str, str], key: str, allowed: Any, default: int | None = None) -> Any:
    """The parameter as an int in ``allowed``; ``(RetCode, message)`` when it is not."""
    raw = params.get(key)
    if raw is None or raw == "":
        if default is not None:
            return default
        return 18001, f"Missing parameter: {key}"
    try:
        value = int(raw)
    except ValueError:
        return 18002, f"{key} must be a number, got {raw!r}"
    if value not in allowed:
        return 18002, f"{key} must be one of {', '.join(map(str, allowed))}"
    return value


def _bool(params: Mapping[str, str], key: str) -> bool:
    return params.get(key, "").strip().lower() == "true"


# --------------------------------------------------------------------------------------------
# Templates


def create_template(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    purpose = _int(params, "Purpose", (1, 2, 3))
    if isinstance(purpose, tuple):
        return reply(*purpose)
    name, text = params.get("TemplateName", ""), params.get("Template", "")
    remark = params.get("Remark", "")
    problem = template_fields_problem(name, text, remark, MAX_TEMPLATE_CHARS)
    if problem is not None:
        return reply(*problem)
    international = _bool(params, "International")
    unsubscribe = params.get("UnsubscribeInfo", "")
    template = Template(
        _new_id("UTS"),
        text,
        purpose,
        name=name,
        remark=remark,
        unsubscribe=unsubscribe,
        instruction=params.get("Instruction", ""),
        international=international,
        create_time=int(time.time()),
    )
    verdict = template_verdict(text, purpose, international, unsubscribe)
    template.submit(time.monotonic(), backend.config.review_delay, verdict)
    with backend.lock:
        backend.config.templates[template.template_id] = template
    return reply(0, "", TemplateId=template.template_id)


def update_template(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    template_id = params.get("TemplateId", "")
    if not template_id:
        return reply(18001, "Missing parameter: TemplateId")
    text = params.get("Template", "")
    name = params.get("TemplateName")
    remark = params.get("Remark", "")
    problem = template_fields_problem(name, text, remark, MAX_UPDATED_TEMPLATE_CHARS)
    if problem is not None:
        return reply(*problem)
    template = backend.template(template_id)
    if template is None:
        return reply(18017, f"Template {template_id} does not exist")
    if template.status != STATUS_REJECTED:
        return reply(18003, f"Template {template_id} did not fail review: it cannot be modified")
    with backend.lock:
        template.text = text
        template.name = name or template.name
        template.remark = remark or template.remark
        template.instruction = params.get("Instruction", template.instruction)
        verdict = template_verdict(
            text, template.purpose, template.international, template.unsubscribe
        )
        template.submit(time.monotonic(), backend.config.review_delay, verdict)
    return reply(0, "")


def delete_templates(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    ids = indexed(params, "TemplateIds")
    if not ids:
        return reply(18001, "Missing parameter: TemplateIds.N")
    templates = backend.config.templates
    with backend.lock:
        missing = [i for i in ids if i not in templates]
        if missing:
            return reply(18017, f"Template {missing[0]} does not exist; nothing was deleted")
        for template_id in ids:
            del templates[template_id]
    return reply(0, "")


def query_template(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """QueryUSMSTemplate: one template by id, whatever its status."""
    template_id = params.get("TemplateId", "")
    if not template_id:
        return reply(18001, "Missing parameter: TemplateId")
    template = backend.template(template_id)
    if template is None:
        return reply(18017, f"Template {template_id} does not exist")
    data = {
        "TemplateId": template.template_id,
        "Purpose": template.purpose,
        "TemplateName": template.name,
        "Template": template.text,
        "UnsubscribeInfo": template.unsubscribe,
        "Status": template.status,
        "Remark": template.remark,
        "ErrDesc": template.err_desc,
        "CreateTime": template.create_time or backend.started,
        "Instruction": template.instruction,
    }
    return reply(0, "Success", Data=data)


# --------------------------------------------------------------------------------------------
# Signatures


def _signature_fields(params: Mapping[str, str]) -> tuple[int, int] | tuple[int, str]:
    """(SigType, SigPurpose), or (RetCode, message) for the first field refused."""
    problem = signature_fields_problem(params.get("SigContent", ""))
    if problem is not None:
        return problem
    sig_type = _int(params, "SigType", SIG_TYPES)
    if isinstance(sig_type, tuple):
        return sig_type
    purpose = _int(params, "SigPurpose", SIG_PURPOSES)
    if isinstance(purpose, tuple):
        return purpose
    for key in ("File", "ProxyFile"):
        if params.get(key):
            problem = file_problem(params[key], key)
            if problem is not None:
                return problem
    return sig_type, purpose


def create_signature(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    fields = _signature_fields(params)
    if isinstance(fields[1], str):
        return reply(*fields)
    sig_type, purpose = fields
    if not params.get("Description"):
        return reply(18001, "Missing parameter: Description")
    content = params["SigContent"]
    with backend.lock:
        if content in backend.config.signatures:
            return reply(18003, f"Signature {content!r} already exists")
        sig = Signature(_new_id("SIGS"), content, sig_type=sig_type, purpose=int(purpose))
        verdict = signature_verdict(sig_type, int(purpose), bool(params.get("ProxyFile")))
        sig.submit(time.monotonic(), backend.config.review_delay, verdict)
        backend.config.signatures[content] = sig
    return reply(0, "", SigId=sig.sig_id)


def update_signature(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    sig_id = params.get("SigId", "")
    if not sig_id:
        return reply(18001, "Missing parameter: SigId")
    fields = _signature_fields(params)
    if isinstance(fields[1], str):
        return reply(*fields)
    sig_type, purpose = fields
    signatures = backend.config.signatures
    with backend.lock:
        old = next((s for s in signatures.values() if s.sig_id == sig_id), None)
        if old is None:
            return reply(18016, f"Signature {sig_id} does not exist")
        del signatures[old.content]
        old.content, old.sig_type, old.purpose = params["SigContent"], sig_type, int(purpose)
        has_proxy = bool(params.get("ProxyFile") or params.get("ProxyDoc"))
        verdict = signature_verdict(sig_type, int(purpose), has_proxy)
        old.submit(time.monotonic(), backend.config.review_delay, verdict)
        signatures[old.content] = old
    return reply(0, "")


def delete_signatures(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    ids = indexed(params, "SigIds")
    if not ids:
        return reply(18001, "Missing parameter: SigIds.N")
    signatures = backend.config.signatures
    with backend.lock:
        by_id = {sig.sig_id: content for content, sig in signatures.items()}
        missing = [i for i in ids if i not in by_id]
        if missing:
            return reply(18016, f"Signature {missing[0]} does not exist; nothing was deleted")
        for sig_id in ids:
            del signatures[by_id[sig_id]]
    return reply(0, "")


def query_signature(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """QueryUSMSSignature: one signature by id and/or content."""
    sig_id = params.get("SigId", "")
    content = params.get("SigContent", "")
    if not sig_id and not content:
        return reply(18001, "Missing parameter: SigId or SigContent")
    now = time.monotonic()
    for sig in list(backend.config.signatures.values()):
        if (not sig_id or sig.sig_id == sig_id) and (not content or sig.content == content):
            sig.settle(now)
            data = {
                "SigId": sig.sig_id,
                "SigContent": sig.content,
                "Status": sig.status,
                "ErrDesc": sig.err_desc,
            }
            return reply(0, "Success", Data=data)
    wanted = " / ".join(repr(part) for part in (sig_id, content) if part)
    return reply(18016, f"Signature {wanted} does not exist")
