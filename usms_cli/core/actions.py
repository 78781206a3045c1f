"""The USMS actions, once: each action's parameters and how they are encoded, the answer fields
usms reads, how many list items one request may carry, and whether it may be retried.

The client takes its retry policy from here, the sandbox dispatches on these names, ``-v`` names
the action, and ``usms api`` encodes ``Key=Value`` pairs with it. A new action is one entry here,
one sandbox handler and one CLI module. Facts: ``shared/usms-api.md`` §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

# How a parameter travels in the form:
#   str, int, bool: one field (bool as "true"/"false");
#   list:           Key.0, Key.1, … (the SDKs' encoding of a list);
#   b64json:        base64 of a UTF-8 JSON document (TaskContent, BlackList).
Encoding = Literal["str", "int", "bool", "list", "b64json"]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    encoding: Encoding = "str"
    required: bool = False
    max_items: int | None = None  # list and b64json: at most this many items per request


@dataclass(frozen=True, slots=True)
class Action:
    """One USMS action. ``retry`` says whether a request whose answer was lost may be asked
    again: only reads may. Throttling (HTTP 429, RetCode 153) and requests that provably never
    left are retried for every action, because nothing reached the API."""

    name: str
    params: tuple[Param, ...]
    answer: tuple[str, ...]
    retry: bool
    summary: str

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _p(spec: str) -> Param:
    """``"Name"``, ``"Name!"`` (required), ``"Name:list"``, ``"Name:list!1000"`` (at most 1000)."""
    required = "!" in spec
    head, _, limit = spec.partition("!")
    name, _, encoding = head.partition(":")
    kind = cast(Encoding, encoding or "str")
    return Param(name, kind, required, int(limit) if limit else None)


def _action(name: str, retry: bool, summary: str, params: str, answer: str) -> Action:
    return Action(
        name,
        tuple(_p(spec) for spec in params.split()),
        tuple(answer.split()),
        retry,
        summary,
    )


_PROJECT = "ProjectId"
_STATS_IN = (
    f"{_PROJECT} Domestic:int! StartDate! EndDate! Page:int! NumPerPage:int! OrderBy! OrderType! "
    "BrevityCode Purpose:int"
)
_STATS_OUT = "Total StatisticsData Data"

ACTIONS: Mapping[str, Action] = {
    a.name: a
    for a in (
        _action(
            "SendUSMSMessage",
            False,
            "send one template to up to 1000 numbers",
            f"{_PROJECT} PhoneNumbers:list!1000 TemplateId! SigContent TemplateParams:list "
            "ExtendCode UserId",
            "SessionNo UserId",
        ),
        _action(
            "SendBatchUSMSMessage",
            False,
            "send personalised messages, up to 200 numbers per request",
            f"{_PROJECT} TaskContent:b64json!200",
            "SessionNo ReqUuid SuccessCount FailContent",
        ),
        _action(
            "GetUSMSSendReceipt",
            True,
            "delivery receipts by SessionNo",
            f"{_PROJECT} SessionNoSet:list!100",
            "Data",
        ),
        _action(
            "PullUSMSReport",
            False,  # a pull consumes the reports: a lost answer loses them if asked again
            "pull pushed status reports and replies (enabled by support)",
            f"{_PROJECT} Limit:int",  # 100 by default, at most 200
            "ReqUuid ReportSet",
        ),
        _action("GetUSMSSendStatistics", True, "daily send statistics", _STATS_IN, _STATS_OUT),
        _action(
            "GetUSMSTemplateSendStatistics",
            True,
            "daily send statistics per template",
            f"{_STATS_IN} TemplateId",
            _STATS_OUT,
        ),
        _action(
            "QueryUSMSTemplate",
            True,
            "one template and its review status",
            f"{_PROJECT}! TemplateId!",
            "Data",
        ),
        _action(
            "CreateUSMSTemplate",
            False,
            "create a template (reviewed by UCloud)",
            f"{_PROJECT} Purpose:int! TemplateName! Template! International:bool Remark "
            "UnsubscribeInfo Instruction",
            "TemplateId",
        ),
        _action(
            "UpdateUSMSTemplate",
            True,
            "change a template that failed review",
            f"{_PROJECT} TemplateId! Template! TemplateName Remark Instruction",
            "",
        ),
        _action(
            "DeleteUSMSTemplate",
            True,
            "delete templates",
            f"{_PROJECT} TemplateIds:list!",
            "",
        ),
        _action(
            "QueryUSMSSignature",
            True,
            "one signature and its review status",
            f"{_PROJECT} SigId SigContent",
            "Data",
        ),
        _action(
            "CreateUSMSSignature",
            False,
            "create a signature (reviewed by UCloud)",
            f"{_PROJECT} SigContent! SigType:int! SigPurpose:int! CertificateType:int! "
            "Description! File ProxyFile International:bool QualificationId SceneDesc",
            "SigId",
        ),
        _action(
            "UpdateUSMSSignature",
            True,
            "change a signature",
            f"{_PROJECT} SigId! SigContent! SigType:int! SigPurpose:int! CertificateType:int "
            "Document File ProxyDoc ProxyFile SceneDesc",
            "",
        ),
        _action(
            "DeleteUSMSSignature",
            True,
            "delete signatures",
            f"{_PROJECT} SigIds:list!",
            "",
        ),
        _action(
            "BatchCreateUSMSBlacklistPhone",
            False,
            "add numbers to the blacklist",
            f"{_PROJECT} IsGlobal:bool! BlackList:b64json!1000",
            "SuccessList FailedList ReqUuid",
        ),
        _action(
            "AddBackfill",
            False,
            "record that a message was used on the device",
            f"{_PROJECT} SessionNo Phone",
            "",
        ),
    )
}


def may_retry(action: str) -> bool:
    """Whether a request of ``action`` whose answer was lost may be asked again. An action the
    table does not know is never retried: it may send or create something."""
    known = ACTIONS.get(action)
    return known is not None and known.retry
