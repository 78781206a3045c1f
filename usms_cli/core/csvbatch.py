"""Personalised messages from a CSV file (SendBatchUSMSMessage): pure functions, no I/O.

- :func:`decode` turns the file's bytes into text (UTF-8, with or without BOM);
- :func:`parse_table` reads the header and the rows, checks every row and maps the columns;
- :func:`build_batch` gives the unsigned parameters of one SendBatchUSMSMessage request;
- :func:`refusals` reads the per-phone refusals (``FailContent``) of an answer;
- :func:`accept_partial` decides when a RetCode 18046 answer is a partial success.

Cell values are taken verbatim (no trimming, no number conversion: ``007`` stays ``007``);
only the phone is normalised to its wire form.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from usms_cli.core.api import MAX_TARGETS_PER_BATCH, Message
from usms_cli.core.codes import PARTIAL_RETCODE
from usms_cli.core.errors import InputError
from usms_cli.core.phones import Entry, Invalid, InvalidPhone, Recipients, normalize
from usms_cli.core.shapes import user_id_problem
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.core.plan import RequestPlan
    from usms_cli.core.results import ApiResult

MAX_COLUMNS = 1024
"""Columns in a ``--csv`` header: far more than any export of recipients has."""
MAX_PARAM_COLUMNS = 127
"""Param columns: a template is at most 500 characters and ``{1}``…``{9}`` take 3 of them,
``{10}``… 4, so no template has more than 127 variables."""
DEFAULT_PHONE_COLUMN = "phone"
DEFAULT_USER_ID_COLUMN = "user_id"
MAX_REASON = 200
SHOWN_COLUMNS = 20
SHOWN_INVALID = 20


@dataclass(frozen=True, slots=True)
class Row:
    """One recipient row: where it is, its wire phone, its template params, its cells."""

    line: int
    phone: str
    params: tuple[str, ...]
    user_id: str | None
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Columns:
    """Which header columns give the phone, the params (in template order) and the UserId."""

    phone: str
    params: tuple[str, ...]
    user_id: str | None

    def describe(self) -> list[str]:
        """The mapping as text: shown in reports and part of the journal fingerprint."""
        return [
            f"phone={self.phone}",
            "params=" + ",".join(self.params),
            f"user_id={self.user_id or ''}",
        ]


@dataclass
class Table:
    """A parsed CSV: the header as written, the column mapping, the valid rows, the rest."""

    source: str
    header: tuple[str, ...]
    columns: Columns
    rows: list[Row] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)  # the first SHOWN_INVALID of them
    invalid_count: int = 0
    bom: bool = False

    def recipients(self) -> Recipients:
        """The rows as :class:`Recipients` (duplicates are invalid rows, never merged)."""
        return Recipients(
            numbers=[row.phone for row in self.rows],
            invalid=list(self.invalid),
            invalid_count=self.invalid_count,
        )


def decode(data: bytes, source: str) -> tuple[str, bool]:
    """The text of a CSV file and whether it started with a BOM; InputError naming the line of
    the first byte that is not UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{source}: " + tr("not valid UTF-8 on line {line}; nothing was sent", line=line),
            hint=tr("save the file as UTF-8 (with or without BOM)"),
        ) from None
    return text, data.startswith(b"\xef\xbb\xbf")


def split_names(value: str) -> tuple[str, ...]:
    """``--param-columns a,b,c`` as names; an empty value means no param columns."""
    if not value.strip():
        return ()
    names = tuple(name.strip() for name in value.split(","))
    if any(not name for name in names):
        raise InputError(
            tr("--param-columns {value!r}: an empty column name; write a,b,c", value=value)
        )
    return names


def parse_table(
    text: str,
    source: str,
    *,
    phone_column: str = DEFAULT_PHONE_COLUMN,
    param_columns: Sequence[str] | None = None,
    user_id_column: str | None = None,
    bom: bool = False,
) -> Table:
    """Read and check every row of a CSV whose first non-blank row is the header.

    Raises InputError for problems with the file as a whole (not CSV, no header, a column
    that is not there); problems with single rows are collected in ``invalid`` with their
    line numbers: a missing or extra cell, an invalid phone, an empty phone or param, a bad
    UserId, a phone already given on an earlier row (it would get two messages).
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 0
    table: Table | None = None
    seen: dict[str, int] = {}
    previous_end = 0
    try:
        for cells in reader:
            line = previous_end + 1  # first line of this record (quoted cells may span lines)
            previous_end = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = cells, line
                columns, indexes = _map_columns(
                    header, source, line, phone_column, param_columns, user_id_column
                )
                table = Table(source, tuple(header), columns, bom=bom)
                continue
            assert table is not None
            problem = _check_row(cells, header, indexes, seen, table, line)
            if problem is not None:
                table.invalid_count += 1
                if len(table.invalid) < SHOWN_INVALID:
                    table.invalid.append(Invalid(Entry(problem[0], source, line), problem[1]))
    except csv.Error as exc:
        raise InputError(
            f"{source}: "
            + tr(
                "not a readable CSV file near line {line} ({error}); nothing was sent",
                line=reader.line_num,
                error=exc,
            ),
            hint=tr('a quote inside a quoted cell is written twice: "say ""hi"""'),
        ) from None
    if table is None:
        raise InputError(
            f"{source}: "
            + tr(
                "empty file: the first row must be a header naming the columns "
                "(e.g. {phone_column},name); nothing was sent",
                phone_column=phone_column,
            )
        )
    if not table.rows and not table.invalid_count:
        raise InputError(
            f"{source}: "
            + tr("a header on line {line} but no rows; nothing was sent", line=header_line)
        )
    return table


def _fold(name: str) -> str:
    return name.strip().casefold()


def _check_width(at: str, columns: int, params: int = 0) -> None:
    """At most MAX_COLUMNS columns in the header, MAX_PARAM_COLUMNS of them params."""
    if columns > MAX_COLUMNS:
        message = tr(
            "the header row has {count:,} columns, more than the {limit:,} usms reads; "
            "nothing was sent",
            count=columns,
            limit=MAX_COLUMNS,
        )
        hint = tr(
            "keep the phone, param and user_id columns (a template has at most {limit} variables)",
            limit=MAX_PARAM_COLUMNS,
        )
        raise InputError(at + message, hint=hint)
    if params > MAX_PARAM_COLUMNS:
        message = tr(
            "{count:,} param columns, but a template has at most {limit} variables "
            "({{1}}, {{2}}, … in 500 characters); nothing was sent",
            count=params,
            limit=MAX_PARAM_COLUMNS,
        )
        hint = tr("list the param columns the template uses with --param-columns a,b,c")
        raise InputError(at + message, hint=hint)


def _map_columns(
    header: Sequence[str],
    source: str,
    line: int,
    phone_column: str,
    param_columns: Sequence[str] | None,
    user_id_column: str | None,
) -> tuple[Columns, tuple[int, tuple[int, ...], int | None]]:
    at = f"{source}:{line}: "  # where, before each message
    _check_width(at, len(header))
    folded = [_fold(name) for name in header]
    counts = Counter(folded)
    first: dict[str, int] = {}
    for position, name in enumerate(folded):
        first.setdefault(name, position)
    listed = ", ".join(repr(name) for name in header[:SHOWN_COLUMNS])
    if len(header) > SHOWN_COLUMNS:
        listed += tr(", … ({count:,} in all)", count=len(header))

    def unique(position: int) -> int:
        if counts[folded[position]] > 1:
            raise InputError(
                at
                + tr(
                    "{count} columns are named {name!r}; nothing was sent",
                    count=counts[folded[position]],
                    name=header[position].strip(),
                ),
                hint=tr("give each column its own name"),
            )
        return position

    def index(name: str, option: str) -> int:
        if _fold(name) not in first:
            raise InputError(
                at
                + tr(
                    "no column named {name!r} in the header row (columns: {listed}); "
                    "nothing was sent",
                    name=name,
                    listed=listed,
                ),
                hint=tr(
                    "the first row names the columns; choose another with {option} NAME",
                    option=option,
                ),
            )
        return unique(first[_fold(name)])

    phone_index = index(phone_column, "--phone-column")
    user_index: int | None = None
    if user_id_column is not None:
        user_index = index(user_id_column, "--user-id-column")
    elif DEFAULT_USER_ID_COLUMN in first:
        user_index = unique(first[DEFAULT_USER_ID_COLUMN])
    if param_columns is None:
        param_indexes = tuple(i for i in range(len(header)) if i not in (phone_index, user_index))
        unnamed = [str(i + 1) for i in param_indexes if not folded[i]]
        if unnamed:
            raise InputError(
                at
                + tr(
                    "column {columns} of the header has no name; nothing was sent",
                    columns=", ".join(unnamed),
                ),
                hint=tr("name it, or list the param columns with --param-columns a,b,c"),
            )
        param_indexes = tuple(unique(i) for i in param_indexes)
    else:
        param_indexes = tuple(index(name, "--param-columns") for name in param_columns)
    _check_width(at, len(header), len(param_indexes))
    columns = Columns(
        phone=header[phone_index].strip(),
        params=tuple(header[i].strip() for i in param_indexes),
        user_id=None if user_index is None else header[user_index].strip(),
    )
    return columns, (phone_index, param_indexes, user_index)


def _check_row(
    cells: list[str],
    header: Sequence[str],
    indexes: tuple[int, tuple[int, ...], int | None],
    seen: dict[str, int],
    table: Table,
    line: int,
) -> tuple[str, str] | None:
    """Append the row to ``table.rows``, or return ``(entry, reason)`` saying what is wrong."""
    phone_index, param_indexes, user_index = indexes
    shown = ",".join(cells)
    if len(cells) != len(header):
        what = tr("a cell is missing") if len(cells) < len(header) else tr("an extra cell")
        return shown, tr(
            "{cells} cells, the header has {columns} ({what})",
            cells=len(cells),
            columns=len(header),
            what=what,
        )
    raw_phone = cells[phone_index]
    if not raw_phone.strip():
        return shown, tr("empty value in column {name!r}", name=header[phone_index].strip())
    try:
        phone = normalize(raw_phone)
    except InvalidPhone as exc:
        return raw_phone, tr("invalid phone: {reason}", reason=exc)
    for i in param_indexes:
        if not cells[i].strip():
            return shown, tr("empty value in column {name!r}", name=header[i].strip())
    user_id: str | None = None
    if user_index is not None and cells[user_index].strip():
        user_id = cells[user_index]
        problem = user_id_problem(user_id)
        if problem:
            return user_id, tr(
                "column {name!r}: the UserId {problem}",
                name=header[user_index].strip(),
                problem=problem,
            )
    if phone in seen:
        return raw_phone, tr(
            "phone {phone} is already on line {line} "
            "(each phone may appear once: it would get two messages)",
            phone=phone,
            line=seen[phone],
        )
    seen[phone] = line
    params = tuple(cells[i] for i in param_indexes)
    table.rows.append(Row(line, phone, params, user_id, tuple(cells)))
    return None


# ---- requests ------------------------------------------------------------------------------


def task_content(message: Message, rows: Sequence[Row]) -> str:
    """TaskContent: base64 of the UTF-8 JSON array of one task for these rows.

    ``TemplateParams`` is left out when there are no param columns (the API wants it absent
    for templates without variables)."""
    targets: list[dict[str, Any]] = []
    for row in rows:
        target: dict[str, Any] = {"Phone": row.phone}
        if row.params:
            target["TemplateParams"] = list(row.params)
        if message.extend_code:
            target["ExtendCode"] = message.extend_code
        if row.user_id:
            target["UserId"] = row.user_id
        targets.append(target)
    task = [
        {
            "TemplateId": message.template_id,
            "SigContent": message.sig_content or "",
            "Target": targets,
        }
    ]
    document = json.dumps(task, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(document.encode("utf-8")).decode("ascii")


def build_batch(message: Message, rows: Sequence[Row]) -> dict[str, Any]:
    """Parameters of one SendBatchUSMSMessage request (before PublicKey/Signature)."""
    params: dict[str, Any] = {"Action": "SendBatchUSMSMessage"}
    if message.project_id:
        params["ProjectId"] = message.project_id
    params["TaskContent"] = task_content(message, rows)
    return params


def batch_plan(message: Message, rows: Sequence[Row]) -> RequestPlan:
    """SendBatchUSMSMessage: one template, each row its own params, 200 rows per request;
    RetCode 18046 with FailContent is a partial success, refused rows are read from it."""
    from usms_cli.core.plan import RequestPlan

    def phones(chunk: Sequence[Row]) -> list[str]:
        return [row.phone for row in chunk]

    return RequestPlan(
        items=rows,
        size=MAX_TARGETS_PER_BATCH,
        build=lambda chunk: build_batch(message, chunk),
        phones=phones,
        refusals=lambda result, chunk: refusals(result.body, phones(chunk)),
        accept=accept_partial,
        identity=lambda chunk: [
            json.dumps([list(row.params), row.user_id], ensure_ascii=False) for row in chunk
        ],
    )


def decode_task_content(value: str) -> list[dict[str, Any]]:
    """The JSON array inside a TaskContent (for dry runs and tests)."""
    document = json.loads(base64.b64decode(value, validate=True).decode("utf-8"))
    if not isinstance(document, list):
        raise ValueError("TaskContent is not a JSON array")
    return document


# ---- answers -------------------------------------------------------------------------------


def _clean(text: Any) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    from usms_cli.core.text import printable

    return printable(text, MAX_REASON)


def _wire(phone: Any) -> str | None:
    if not isinstance(phone, str):
        return None
    try:
        return normalize(phone)
    except InvalidPhone:
        return phone


def refusals(body: Mapping[str, Any] | None, phones: Iterable[str]) -> dict[str, str]:
    """``{phone: reason}`` for the phones of this request listed in ``FailContent``.

    A task-level ``FailureDetails`` (template or signature refused) applies to the task's
    targets, or to every phone of the request when the task lists none. Phones the request
    did not address are ignored; anything malformed is skipped.
    """
    if body is None:
        return {}
    fail = body.get("FailContent")
    if not isinstance(fail, list):
        return {}
    ours = set(phones)
    refused: dict[str, str] = {}
    for task in fail:
        if not isinstance(task, dict):
            continue
        task_reason = _clean(task.get("FailureDetails"))
        targets = task.get("Target")
        if not isinstance(targets, list) or not targets:
            if task_reason:
                refused.update(dict.fromkeys(sorted(ours - set(refused)), task_reason))
            continue
        for target in targets:
            if not isinstance(target, dict):
                continue
            phone = _wire(target.get("Phone"))
            if phone in ours and phone not in refused:
                reason = _clean(target.get("FailureDetails")) or task_reason or "refused"
                refused[phone] = reason
    return refused


def accept_partial(result: ApiResult) -> ApiResult:
    """RetCode 18046 with ``FailContent`` is a partial success when something was accepted
    (a SessionNo, or SuccessCount > 0): the request counts as accepted, its refused phones
    are read by :func:`refusals`. Without anything accepted it stays a refusal."""
    body = result.body
    if result.status != "rejected" or result.ret_code != PARTIAL_RETCODE or body is None:
        return result
    if not isinstance(body.get("FailContent"), list):
        return result
    session_no = body.get("SessionNo")
    success = body.get("SuccessCount")
    some = (isinstance(session_no, str) and bool(session_no.strip())) or (
        type(success) is int and success > 0
    )
    return replace(result, status="accepted") if some else result


# ---- failed rows -------------------------------------------------------------------------


def format_rows(header: Sequence[str], rows: Iterable[Row], *, bom: bool = False) -> str:
    """A CSV with this header and these rows' cells (for --failed-out; CRLF, quoted as
    needed, so every value reads back unchanged)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row.cells)
    return ("\ufeff" if bom else "") + buffer.getvalue()
