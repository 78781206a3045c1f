"""Templates before they reach USMS: the checks the API and its reviewers apply to a template
(length, ``{N}`` variables, the unsubscribe text of a marketing template, name and remark
lengths), the Create/Update/Delete/Query requests, the create answer, and the review states.
Pure: the callers read files and talk to the API."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from usms_cli.core.codes import APPROVED, as_int
from usms_cli.core.errors import InputError
from usms_cli.i18n import N_, tr

MAX_TEXT = 500  # characters; the most one send may carry, so a longer template is useless
MAX_NAME = 32
MAX_REMARK = 128
PURPOSES: Mapping[str, int] = {"code": 1, "notice": 2, "marketing": 3}
MARKETING = PURPOSES["marketing"]
# Symbols the review refuses in a template (usms-api.md §4.4).
FORBIDDEN_SYMBOLS = "※●★￥"

_VARIABLE = re.compile(r"\{([0-9]+)\}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

_NAME, _REMARK = N_("the name"), N_("the remark")
_NO_IDS = {
    "template": N_("give at least one template id"),
    "signature": N_("give at least one signature id"),
}
_NOT_AN_ID = {
    "template": N_("not a template id: {id!r}"),
    "signature": N_("not a signature id: {id!r}"),
}

Review = Literal["approved", "rejected", "pending"]
REJECTED_STATUSES = frozenset({3, 4})  # rejected, disabled: final and not usable


@dataclass(frozen=True)
class TemplateSpec:
    """What CreateUSMSTemplate is given; ``purpose`` is 1 code, 2 notice, 3 marketing."""

    name: str
    text: str
    purpose: int
    international: bool = False
    remark: str | None = None
    unsubscribe: str | None = None
    instruction: str | None = None


def parse_purpose(value: str | int, flag: str = "--purpose") -> int:
    """``code``/``notice``/``marketing`` (or 1/2/3) as the API's Purpose number."""
    text = str(value).strip().lower()
    if text in PURPOSES:
        return PURPOSES[text]
    if text in {"1", "2", "3"}:
        return int(text)
    raise InputError(
        tr("{flag} must be code, notice or marketing, got {value!r}", flag=flag, value=value)
    )


def purpose_word(purpose: int | None) -> str:
    return next((word for word, number in PURPOSES.items() if number == purpose), "")


def variable_numbers(text: str) -> list[int]:
    """Every ``{N}`` of ``text``, in order of appearance (repeats included)."""
    return [int(number) for number in _VARIABLE.findall(text)]


def text_problems(text: str) -> list[str]:
    """Why the API or its review would refuse this template text (empty: nothing found)."""
    problems: list[str] = []
    if not text.strip():
        return [tr("the template text is empty")]
    if len(text) > MAX_TEXT:
        problems.append(
            tr(
                "the text is {length:,} characters; at most {limit} allowed",
                length=len(text),
                limit=MAX_TEXT,
            )
        )
    numbers = sorted(set(variable_numbers(text)))
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        wanted = ", ".join(f"{{{n}}}" for n in range(1, max(numbers) + 1) if n not in numbers)
        shown = ", ".join(f"{{{n}}}" for n in numbers)
        problems.append(
            tr(
                "variables must be numbered {{1}}, {{2}}, … without gaps; it has {shown}",
                shown=shown,
            )
            + (tr(" (missing {wanted})", wanted=wanted) if wanted else "")
        )
    rest = _VARIABLE.sub("", text)
    if numbers and not any(ch.isalnum() for ch in rest):
        problems.append(tr("a template may not consist of variables only"))
    found = sorted({ch for ch in text if ch in FORBIDDEN_SYMBOLS})
    if found:
        problems.append(tr("the review refuses the symbols {symbols}", symbols=" ".join(found)))
    return problems


def _length_problem(value: str | None, label: str, limit: int) -> list[str]:
    if value is not None and len(value) > limit:
        return [
            tr(
                "{label} is {length:,} characters; at most {limit} allowed",
                label=tr(label),
                length=len(value),
                limit=limit,
            )
        ]
    return []


def template_problems(spec: TemplateSpec) -> list[str]:
    """Everything wrong with a template to create, at once (empty: it may be sent)."""
    problems = text_problems(spec.text)
    if not spec.name.strip():
        problems.append(tr("the template needs a name (--name)"))
    problems += _length_problem(spec.name, _NAME, MAX_NAME)
    problems += _length_problem(spec.remark, _REMARK, MAX_REMARK)
    if spec.purpose not in PURPOSES.values():
        problems.append(tr("the purpose must be 1, 2 or 3, got {purpose}", purpose=spec.purpose))
    if spec.purpose == MARKETING and not spec.international:
        if not (spec.unsubscribe or "").strip():
            problems.append(
                tr(
                    "a domestic marketing template needs the unsubscribe text "
                    "(--unsubscribe '拒收请回复R')"
                )
            )
    return problems


def unsubscribe_value(text: str) -> str:
    """UnsubscribeInfo as the API lists it: the text inside 【】 (added when missing)."""
    inner = text.strip()
    return inner if inner.startswith("【") and inner.endswith("】") else f"【{inner}】"


def _with_project(action: str, project_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"Action": action}
    if project_id:
        params["ProjectId"] = project_id
    return params


def build_create(spec: TemplateSpec, project_id: str | None) -> dict[str, Any]:
    params = _with_project("CreateUSMSTemplate", project_id)
    params.update(Purpose=spec.purpose, TemplateName=spec.name, Template=spec.text)
    if spec.international:
        params["International"] = True
    if spec.remark:
        params["Remark"] = spec.remark
    if spec.unsubscribe and spec.purpose == MARKETING:
        params["UnsubscribeInfo"] = unsubscribe_value(spec.unsubscribe)
    if spec.instruction:
        params["Instruction"] = spec.instruction
    return params


@dataclass(frozen=True)
class TemplateChange:
    """What UpdateUSMSTemplate is given besides the id (None: leave as it is)."""

    text: str
    name: str | None = None
    remark: str | None = None
    instruction: str | None = None

    def problems(self) -> list[str]:
        problems = text_problems(self.text)
        problems += _length_problem(self.name, _NAME, MAX_NAME)
        problems += _length_problem(self.remark, _REMARK, MAX_REMARK)
        return problems


def build_update(
    template_id: str, change: TemplateChange, project_id: str | None
) -> dict[str, Any]:
    params = _with_project("UpdateUSMSTemplate", project_id)
    params.update(TemplateId=template_id, Template=change.text)
    if change.name:
        params["TemplateName"] = change.name
    if change.remark:
        params["Remark"] = change.remark
    if change.instruction:
        params["Instruction"] = change.instruction
    return params


def build_delete(template_ids: Sequence[str], project_id: str | None) -> dict[str, Any]:
    params = _with_project("DeleteUSMSTemplate", project_id)
    params["TemplateIds"] = list(template_ids)
    return params


def check_ids(ids: Sequence[str], what: Literal["template", "signature"]) -> list[str]:
    """The ids, stripped and de-duplicated; an InputError for none or a malformed one."""
    unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not unique:
        raise InputError(tr(_NO_IDS[what]))
    bad = [i for i in unique if not _ID.fullmatch(i)]
    if bad:
        raise InputError(tr(_NOT_AN_ID[what], id=bad[0]))
    return unique


def created_id(body: Any, key: str) -> str | None:
    """The id a Create answer carries (``TemplateId``/``SigId``), or None when it has none
    that looks like an id (any JSON is accepted; nothing raises)."""
    if not isinstance(body, Mapping):
        return None
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _ID.fullmatch(value.strip()):
        return value.strip()
    return None


def review_state(data: Mapping[str, Any]) -> Review:
    """A template's or signature's review, as a waiting caller sees it."""
    status = as_int(data.get("Status"))
    if status == APPROVED:
        return "approved"
    if status in REJECTED_STATUSES:
        return "rejected"
    return "pending"
