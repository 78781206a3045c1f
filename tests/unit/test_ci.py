"""The CI formats (usms_cli.output.ci): GitHub outputs, masks, annotations, step summary and
the dotenv report, from one report payload."""

from __future__ import annotations

from usms_cli.output.ci import (
    add_mask_lines,
    dotenv_text,
    error_annotation,
    github_output_text,
    outputs,
    summary_markdown,
)


def test_ci_outputs_and_commands() -> None:
    payload = {
        "exit_code": 3,
        "recipients": 3,
        "request_count": 2,
        "session_nos": ["sn-1", "sn-2"],
        "counts": {"accepted": 2, "rejected": 1, "unknown": 0, "not_sent": 0},
    }
    values = outputs(payload)
    assert values["status"] == "partial" and values["accepted"] == "2"
    text = github_output_text(values)
    assert "exit_code=3\n" in text and "session_nos<<USMS_" in text and "sn-1\nsn-2\n" in text
    assert "| 2 | 1 | 0 | 0 | 2 |" in summary_markdown(payload)
    assert "USMS_SESSION_NOS=sn-1 sn-2\n" in dotenv_text(values)
    assert add_mask_lines(["13800008000", "(852)91234567"]) == [
        "::add-mask::13800008000",
        "::add-mask::(852)91234567",
        "::add-mask::91234567",
    ]
    assert error_annotation("bad\nthing 100%") == "::error title=usms::bad%0Athing 100%25"
