"""How a batch becomes requests (RequestPlan), and a dry run: every request built and signed,
none sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from usms_cli.core.api import MAX_NUMBERS_PER_SEND, Message, build_send, chunks
from usms_cli.core.results import RequestOutcome, SendReport
from usms_cli.core.signing import signed_params

if TYPE_CHECKING:
    from usms_cli.core.phones import Recipients
    from usms_cli.core.results import ApiResult


def dry_run(
    message: Message,
    recipients: Recipients,
    public_key: str,
    private_key: str,
    plan: RequestPlan | None = None,
) -> SendReport:
    """Everything up to the HTTP call: build and sign each request, send nothing."""
    plan = plan or numbers_plan(message, recipients.numbers)
    report = SendReport(message, recipients, dry_run=True)
    for index, chunk in enumerate(chunks(plan.items, plan.size), start=1):
        form = signed_params(plan.build(chunk), public_key, private_key)
        report.requests.append(RequestOutcome(index, plan.phones(chunk), None, form, items=chunk))
    return report


@dataclass
class RequestPlan:
    """How a batch becomes requests: chunk ``items`` by ``size``; ``build`` gives the unsigned
    parameters of one request, ``phones`` the numbers it addresses (journal, reports).

    Optional: ``accept`` reclassifies an answer before anything else looks at it (a partial
    success the API reports with a non-zero RetCode); ``refusals`` gives the phones the API
    refused by name in an answer (accepted or not); ``identity`` gives what, besides the
    phones, makes a chunk's content (per-row params) for its journal id."""

    items: Sequence[Any]
    size: int
    build: Callable[[Sequence[Any]], dict[str, Any]]
    phones: Callable[[Sequence[Any]], Sequence[str]]
    refusals: Callable[[ApiResult, Sequence[Any]], dict[str, str]] | None = None
    accept: Callable[[ApiResult], ApiResult] | None = None
    identity: Callable[[Sequence[Any]], Sequence[str]] | None = None


def numbers_plan(message: Message, numbers: Sequence[str]) -> RequestPlan:
    """SendUSMSMessage: one template, up to 1000 numbers per request."""
    return RequestPlan(
        items=numbers,
        size=MAX_NUMBERS_PER_SEND,
        build=lambda chunk: build_send(message, chunk),
        phones=lambda chunk: chunk,
    )
