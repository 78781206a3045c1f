"""The pure parts of a CSV send (usms_cli.core.csvbatch): reading the table, building
SendBatchUSMSMessage requests, and reading FailContent back."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usms_cli.core import csvbatch
from usms_cli.core.api import Message
from usms_cli.core.errors import InputError
from usms_cli.core.results import ApiResult


def parse(data: bytes, **kw: Any) -> csvbatch.Table:
    text, bom = csvbatch.decode(data, "t.csv")
    return csvbatch.parse_table(text, "t.csv", bom=bom, **kw)


CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.lists(CELL.filter(lambda v: v.strip() != ""), min_size=2, max_size=2),
        min_size=1,
        max_size=8,
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
def test_csv_values_round_trip_unchanged_into_task_content(
    values: list[list[str]], newline: str, bom: bool
) -> None:
    rows = [[f"139{i:08d}", *cells] for i, cells in enumerate(values)]
    buffer = io.StringIO()
    # With LF line ends the csv module does not quote a lone CR by itself: quote every cell.
    quoting = csv.QUOTE_ALL if newline == "\n" else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)
    writer.writerows([["phone", "a", "b"], *rows])
    data = (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")
    table = parse(data)
    assert table.invalid_count == 0
    params = csvbatch.build_batch(Message("UT1", "Sig", project_id="p"), table.rows)
    assert set(params) == {"Action", "ProjectId", "TaskContent"}
    [task] = csvbatch.decode_task_content(params["TaskContent"])
    assert [t["TemplateParams"] for t in task["Target"]] == values
    assert [t["Phone"] for t in task["Target"]] == [row[0] for row in rows]
    # and --failed-out writes them back unchanged
    again = parse(csvbatch.format_rows(table.header, table.rows).encode("utf-8"))
    assert [row.params for row in again.rows] == [tuple(cells) for cells in values]


def test_refusals_read_fail_content_defensively() -> None:
    body: dict[str, Any] = {
        "FailContent": [
            "junk",
            {"Target": [{"Phone": "(86)13800000001", "FailureDetails": "黑名单\x1b[31m"}]},
            {"Target": [{"Phone": "13800000002"}, {"Phone": "19999999999"}, 5]},
            {"FailureDetails": "signature not approved", "Target": []},
        ]
    }
    phones = ["13800000000", "13800000001", "13800000002"]
    assert csvbatch.refusals(body, phones) == {
        "13800000001": "黑名单\\x1b[31m",
        "13800000002": "refused",
        "13800000000": "signature not approved",
    }
    assert csvbatch.refusals({"FailContent": "x"}, phones) == {}
    assert csvbatch.refusals(None, phones) == {}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"FailContent": [], "SessionNo": "sn-1"}, "accepted"),
        ({"FailContent": [], "SuccessCount": 3}, "accepted"),
        ({"FailContent": [], "SuccessCount": 0}, "rejected"),
        ({"FailContent": [], "SuccessCount": True}, "rejected"),
        ({"SessionNo": "sn-1"}, "rejected"),  # 18046 without FailContent: a plain refusal
    ],
)
def test_accept_partial(body: dict[str, Any], status: str) -> None:
    result = csvbatch.accept_partial(ApiResult("rejected", 18046, "partial", body))
    assert result.status == status
    other = ApiResult("rejected", 18017, "template", {"FailContent": [], "SessionNo": "x"})
    assert csvbatch.accept_partial(other) is other


def test_header_problems() -> None:
    with pytest.raises(InputError, match="2 columns are named 'name'"):
        parse(b"phone,name,Name\n13800000000,a,b\n")
    with pytest.raises(InputError, match="column 3 of the header has no name"):
        parse(b"phone,name,\n13800000000,a,b\n")
    table = parse(b"phone,name,\n13800000000,a,b\n", param_columns=["name"])
    assert table.rows[0].params == ("a",)
    blank_lines = parse(b"\n\nphone,a\n,\n13800000000,x\n")
    assert blank_lines.rows[0].line == 5 and blank_lines.columns.params == ("a",)


def test_a_template_without_variables_gets_no_template_params_key() -> None:
    """The API refuses TemplateParams (even []) for a template without variables."""
    table = parse(b"phone\n13800000001\n")
    task = csvbatch.decode_task_content(
        csvbatch.build_batch(Message("UTPLAIN", "S"), table.rows)["TaskContent"]
    )
    assert task == [
        {"TemplateId": "UTPLAIN", "SigContent": "S", "Target": [{"Phone": "13800000001"}]}
    ]
