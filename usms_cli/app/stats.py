"""``usms stats``: send statistics for a date range, every page of them, domestic and (or)
international, grouped by day, template or country with a total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from usms_cli.app.common import Connection, api_client, query, require_credentials, resolve
from usms_cli.core.errors import InputError
from usms_cli.core.outcomes import StatsResult
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.stats import StatRow, StatsQuery
    from usms_cli.engine.client import Client
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class StatsRequest:
    """``usms stats`` as given; ``domestic`` None asks for both kinds."""

    start: str | None = None
    end: str | None = None
    domestic: bool | None = None
    purpose: str | None = None
    template_id: str | None = None
    by: str = "day"
    countries: str | None = None


def _queries(request: StatsRequest, env: Env) -> list[StatsQuery]:
    """The questions to ask, checked before anything is sent."""
    from usms_cli.core.stats import GROUPS, StatsQuery, date_range
    from usms_cli.core.templates import parse_purpose

    if request.by not in GROUPS:
        raise InputError(
            tr(
                "--by must be one of {choices}, got {value!r}",
                choices=", ".join(GROUPS),
                value=request.by,
            )
        )
    start, end = date_range(request.start, request.end, env.now())
    purpose = None if request.purpose is None else parse_purpose(request.purpose)
    countries = (request.countries or "").strip().upper() or None
    if countries is not None and not all(p.isalpha() for p in countries.split("-")):
        raise InputError(
            tr("--country takes codes such as CN or CN-ID, got {value!r}", value=request.countries)
        )
    template_id = (request.template_id or "").strip() or None
    kinds = [True, False] if request.domestic is None else [request.domestic]
    return [
        StatsQuery(
            start,
            end,
            domestic,
            purpose=purpose,
            template_id=template_id,
            per_template=request.by == "template",
            countries=countries,
        )
        for domestic in kinds
    ]


def stats(console: Output, env: Env, connection: Connection, request: StatsRequest) -> StatsResult:
    """Every page of every question, summed into lines and a total."""
    from usms_cli.core.stats import group

    questions = _queries(request, env)
    settings = resolve(connection, env, console)
    require_credentials(settings)
    client = api_client(console, settings, connection.verbose)
    rows: list[StatRow] = []
    pages = 0
    try:
        for question in questions:
            found, asked = _all_pages(client, settings, question)
            rows += found
            pages += asked
    finally:
        client.close()
    lines, total = group(rows, request.by)  # type: ignore[arg-type]  # checked in _queries
    scopes = ["domestic" if q.domestic else "international" for q in questions]
    first = questions[0]
    return StatsResult(first.start, first.end, request.by, scopes, lines, total, pages)


def _all_pages(
    client: Client, settings: Settings, question: StatsQuery
) -> tuple[list[StatRow], int]:
    from usms_cli.core.stats import MAX_PAGES, PER_PAGE, StatsAnswerError, more_pages, parse_page

    rows: list[StatRow] = []
    for number in range(MAX_PAGES):
        params = question.page(number, settings.project_id)
        page = parse_page(query(client, params, settings, N_("the statistics query")))
        rows += page.rows
        if not more_pages(page, len(rows), PER_PAGE):
            return rows, number + 1
    raise StatsAnswerError(
        tr("the statistics did not end after {n:,} pages; the answers look wrong", n=MAX_PAGES)
    )
