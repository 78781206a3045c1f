"""What a send is made of: the message and its recipients (from arguments, files or a CSV
table), with their checks, the requests they become, their cost, and the preview of a CSV send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import InputError
from usms_cli.i18n import tr, tr_n

if TYPE_CHECKING:
    from usms_cli.app.request import SendRequest
    from usms_cli.core.api import Message
    from usms_cli.core.cost import Cost
    from usms_cli.core.csvbatch import Table
    from usms_cli.core.phones import Recipients
    from usms_cli.core.plan import RequestPlan
    from usms_cli.core.privacy import Masker
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


@dataclass
class Job:
    """What to send: a message to numbers, or (``table``) a CSV batch with params per row."""

    message: Message
    recipients: Recipients
    table: Table | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        request: SendRequest,
        recipients: Recipients,
        table: Table | None,
    ) -> Job:
        """The message from the settings and the request, checked against the recipients."""
        from usms_cli.core.api import Message, check_message

        message = Message(
            template_id=(settings.template_id or "").strip(),
            sig_content=settings.sig_content,
            params=tuple(request.params),
            extend_code=request.extend_code,
            user_id=request.user_id,
            project_id=settings.project_id,
        )
        check_message(message, recipients.numbers)
        return cls(message, recipients, table)

    def without(self, phones: set[str]) -> Job:
        """This job without ``phones`` (skipped repeats, suppressed numbers)."""
        from dataclasses import replace

        kept = [n for n in self.recipients.numbers if n not in phones]
        recipients = replace(self.recipients, numbers=kept)
        table = self.table
        if table is not None:
            table = replace(table, rows=[row for row in table.rows if row.phone not in phones])
        return Job(self.message, recipients, table)

    def plan(self, numbers: Sequence[str]) -> RequestPlan:
        """The requests for ``numbers`` (all recipients, or those a journal says to send)."""
        if self.table is None:
            from usms_cli.core.plan import numbers_plan

            return numbers_plan(self.message, numbers)
        from usms_cli.core.csvbatch import batch_plan

        wanted = set(numbers)
        return batch_plan(self.message, [row for row in self.table.rows if row.phone in wanted])

    @property
    def columns(self) -> list[str] | None:
        return None if self.table is None else self.table.columns.describe()

    def cost(self, template: str, masker: Masker) -> Cost:
        """Every message measured; an InputError if one cannot be sent."""
        from usms_cli.core.cost import measure

        sig = self.message.sig_content
        if self.table is None:
            params = self.message.params
            return measure(
                template, sig, ((n, params, "") for n in self.recipients.numbers), masker
            )
        source = self.table.source
        rows = ((row.phone, row.params, f"{source}:{row.line}") for row in self.table.rows)
        return measure(template, sig, rows, masker)

    def preview(self, template: str | None, count: int) -> list[dict[str, Any]]:
        """The first ``count`` rows of a CSV send as recipients will read them (or their
        params, when the template text is not known)."""
        from usms_cli.core import content
        from usms_cli.core.phones import is_international

        assert self.table is not None
        table = self.table
        shown: list[dict[str, Any]] = []
        for row in table.rows[:count]:
            item: dict[str, Any] = {
                "line": row.line,
                "phone": row.phone,
                "params": dict(zip(table.columns.params, row.params, strict=True)),
                "user_id": row.user_id,
                "text": None,
            }
            if template is not None:
                abroad = is_international(row.phone)
                shown_message = content.preview(
                    template, row.params, self.message.sig_content, international=abroad
                )
                item.update(
                    text=shown_message.text,
                    length=shown_message.length,
                    sms=shown_message.segments,
                )
            shown.append(item)
        return shown


def read_job(console: Output, request: SendRequest) -> tuple[Recipients, Table | None]:
    """The recipients (and, with --csv, the table), checked: an InputError while any is
    invalid (unless --skip-invalid), or when there is none."""
    if request.csv_file is not None:
        table = _read_table(request)
        console.add_masks(value for row in table.rows for value in row.params)
        recipients = table.recipients()
        _require_valid(console, recipients, request.skip_invalid, "row", table.source)
        return recipients, table
    from usms_cli.core.phones import collect
    from usms_cli.engine.inputs import gather

    recipients = collect(gather(request.phones, request.files, column=request.column))
    where = ", ".join([*([tr("the arguments")] if request.phones else []), *request.files])
    hint = _column_hint(request) if recipients.invalid_count else None
    _require_valid(console, recipients, request.skip_invalid, "number", where, hint)
    return recipients, None


PHONE_HEADERS = ("phone", "mobile", "tel", "number", "phonenumber", "手机", "手机号", "电话")


def _column_hint(request: SendRequest) -> str | None:
    """For a *.csv file read by its first column: the column that seems to hold the numbers."""
    if request.column is not None:
        return None
    for name in request.files:
        if not name.lower().endswith(".csv"):
            continue
        try:
            with open(name, encoding="utf-8-sig", errors="replace") as file:
                header = file.readline(4096)
        except OSError:
            continue
        columns = [c.strip().strip('"') for c in header.split(",")]
        for column in columns[1:]:
            if column.lower().replace("_", "").replace(" ", "") in PHONE_HEADERS:
                return tr(
                    "{name} is read by its first column; the numbers seem to be in "
                    "{column!r}: pass --column {column}",
                    name=name,
                    column=column,
                )
        return tr(
            "{name} is read by its first column: name the one with the numbers, --column NAME",
            name=name,
        )
    return None


def _read_table(request: SendRequest) -> Table:
    from usms_cli.core import csvbatch
    from usms_cli.engine.inputs import read_bytes

    assert request.csv_file is not None
    data, source = read_bytes(request.csv_file)
    text, bom = csvbatch.decode(data, source)
    columns = request.param_columns
    return csvbatch.parse_table(
        text,
        source,
        phone_column=request.phone_column or csvbatch.DEFAULT_PHONE_COLUMN,
        param_columns=None if columns is None else csvbatch.split_names(columns),
        user_id_column=request.user_id_column,
        bom=bom,
    )


def _require_valid(
    console: Output,
    recipients: Recipients,
    skip_invalid: bool,
    entry: str,
    where: str,
    hint: str | None = None,
) -> None:
    """Nothing is sent while any entry (``row`` or ``number``) is invalid, unless
    --skip-invalid; nor with no entry.
    In GitHub Actions the numbers are masked first, before anything else is printed; then
    the warnings about the settings follow."""
    from usms_cli.output.render import invalid_details

    console.add_masks(recipients.numbers)
    if recipients.invalid_count and not skip_invalid:
        count = recipients.invalid_count
        if entry == "row":
            text = tr_n(
                "{n:,} invalid row in {where}; nothing was sent",
                "{n:,} invalid rows in {where}; nothing was sent",
                count,
                n=count,
                where=where,
            )
        else:
            text = tr_n(
                "{n:,} invalid phone number in {where}; nothing was sent",
                "{n:,} invalid phone numbers in {where}; nothing was sent",
                count,
                n=count,
                where=where,
            )
        raise InputError(
            text,
            hint=hint or tr("fix them, or pass --skip-invalid to send to the valid ones only"),
            details=invalid_details(recipients),
            shown_details=invalid_details(recipients, console.masker),
        )
    if not recipients.numbers:
        if recipients.invalid_count:
            raise InputError(
                tr("no valid phone numbers to send to; nothing was sent"),
                details=invalid_details(recipients),
                shown_details=invalid_details(recipients, console.masker),
            )
        raise InputError(tr("no phone numbers found in {where}; nothing was sent", where=where))
