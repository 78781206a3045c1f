"""Send statistics (GetUSMSSendStatistics, GetUSMSTemplateSendStatistics): the date range and
its checks, the paged requests, a tolerant page parser, and the grouping into rows with a total
(sent, delivered, failed, unknown, billed segments, success rate). Pure."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from usms_cli.core.codes import as_int
from usms_cli.core.errors import ExitCode, InputError, UsmsError
from usms_cli.i18n import tr

CHINA = datetime.timezone(datetime.timedelta(hours=8), "China")
PER_PAGE = 100
MAX_PAGES = 1000  # 100,000 rows: far beyond any range; a server that never ends is stopped
Group = Literal["day", "template", "country"]
GROUPS: tuple[Group, ...] = ("day", "template", "country")


class StatsAnswerError(UsmsError):
    """A statistics answer usms cannot read: what it says is unknown."""

    exit_code = ExitCode.UNKNOWN


def parse_date(text: str, flag: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            tr("{flag} must be a date written YYYY-MM-DD, got {value!r}", flag=flag, value=text)
        ) from None


def date_range(
    start: str | None, end: str | None, now: datetime.datetime
) -> tuple[datetime.date, datetime.date]:
    """``--from``/``--to``, by default the current month so far (China dates, as USMS counts)."""
    today = now.astimezone(CHINA).date()
    first = parse_date(start, "--from") if start else today.replace(day=1)
    last = parse_date(end, "--to") if end else max(today, first)
    if first > last:
        raise InputError(tr("--from {first} is after --to {last}", first=first, last=last))
    return first, last


@dataclass(frozen=True)
class StatsQuery:
    """One statistics question: which messages, and whether per template."""

    start: datetime.date
    end: datetime.date
    domestic: bool
    purpose: int | None = None
    template_id: str | None = None
    per_template: bool = False
    countries: str | None = None  # BrevityCode: "CN" or "CN-ID"

    @property
    def action(self) -> str:
        if self.per_template or self.template_id:
            return "GetUSMSTemplateSendStatistics"
        return "GetUSMSSendStatistics"

    def page(self, number: int, project_id: str | None, per_page: int = PER_PAGE) -> dict[str, Any]:
        params: dict[str, Any] = {"Action": self.action}
        if project_id:
            params["ProjectId"] = project_id
        params.update(
            Domestic=1 if self.domestic else 0,
            StartDate=self.start.isoformat(),
            EndDate=self.end.isoformat(),
            Page=number,
            NumPerPage=per_page,
            OrderBy="SendDate",
            OrderType="asc",
        )
        if self.countries:
            params["BrevityCode"] = self.countries
        if self.purpose is not None:
            params["Purpose"] = self.purpose
        if self.template_id:
            params["TemplateId"] = self.template_id
        return params


_COUNTS = ("sent", "delivered", "failed", "submit_failed", "unknown", "billed")


@dataclass
class Counts:
    """Messages (per recipient) by outcome, and the billed segments of all of them."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    submit_failed: int = 0
    unknown: int = 0
    billed: int = 0

    def add(self, other: Counts) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def success_rate(self) -> float | None:
        """Delivered out of sent, in percent (None when nothing was sent)."""
        return None if self.sent <= 0 else round(100.0 * self.delivered / self.sent, 2)

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {name: getattr(self, name) for name in _COUNTS}
        shown["success_rate"] = self.success_rate
        return shown


@dataclass(frozen=True)
class StatRow:
    """One row of a statistics page: a day, a country (and a template), and its counts."""

    date: str
    country: str
    template_id: str
    counts: Counts


@dataclass
class StatsPage:
    total: int | None
    rows: list[StatRow] = field(default_factory=list)


def _count(item: Mapping[str, Any], *names: str) -> int:
    """The first of ``names`` that holds a whole number (USMS renamed some fields)."""
    for name in names:
        value = item.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        number = as_int(value) if isinstance(value, int | str) else None
        if number is not None:
            return max(0, number)
    return 0


def _date(value: Any) -> str:
    """SendDate as ``YYYY-MM-DD``: a date string as given, a unix time as a China date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.datetime.fromtimestamp(float(value), CHINA)
        except (OverflowError, OSError, ValueError):
            return str(value)
        return moment.date().isoformat()
    return str(value or "")[:40]


def _row(item: Mapping[str, Any]) -> StatRow:
    counts = Counts(
        sent=_count(item, "Count", "SendCount"),
        delivered=_count(item, "SuccessCount"),
        failed=_count(item, "FailedCount", "FailCount"),
        submit_failed=_count(item, "SubmitFailedCount", "SubmitFailCount"),
        unknown=_count(item, "UnknownCount"),
        billed=_count(item, "CostCount", "SendCostCount"),
    )
    return StatRow(
        _date(item.get("SendDate")),
        str(item.get("BrevityCode") or "")[:40],
        str(item.get("TemplateId") or "")[:64],
        counts,
    )


def parse_page(body: Any) -> StatsPage:
    """One page of a statistics answer; a StatsAnswerError when it is not one."""
    if not isinstance(body, Mapping):
        raise StatsAnswerError(tr("the statistics answer is not a JSON object"))
    data = body.get("Data", [])
    if data is None:
        data = []
    if not isinstance(data, list):
        raise StatsAnswerError(tr("the statistics answer's Data is not a list"))
    total = body.get("Total")
    number = None if isinstance(total, bool) else as_int(total) if total is not None else None
    rows = [_row(item) for item in data if isinstance(item, Mapping)]
    return StatsPage(None if number is None or number < 0 else number, rows)


def more_pages(page: StatsPage, collected: int, per_page: int) -> bool:
    """Whether to ask for the next page, after ``collected`` rows so far."""
    if not page.rows:
        return False
    if page.total is not None:
        return collected < page.total
    return len(page.rows) >= per_page


@dataclass(frozen=True)
class Line:
    key: str  # the day, the template id or the country
    counts: Counts


def group(rows: Iterable[StatRow], by: Group) -> tuple[list[Line], Counts]:
    """Rows summed per day, template or country (in key order), and the total."""
    sums: dict[str, Counts] = {}
    total = Counts()
    for row in rows:
        key = {"day": row.date, "template": row.template_id, "country": row.country}[by]
        sums.setdefault(key or "?", Counts()).add(row.counts)
        total.add(row.counts)
    return [Line(key, sums[key]) for key in sorted(sums)], total
