"""The progress bar fits an 80-column terminal: the request count and the ETA stay visible
(issue 13 #17); a wide terminal gets the long form."""

from __future__ import annotations

import io
import re
import time
from types import SimpleNamespace

import pytest
from rich.console import Console

from usms_cli.output.console import ProgressBar, Stream


def _draw(width: int, total: int, per_request: int) -> str:
    buffer = io.StringIO()
    stream = Stream(buffer)
    stream._console = Console(file=buffer, width=width, force_terminal=True, color_system=None)
    bar = ProgressBar(stream, total)
    advance = bar.__enter__()
    outcome = SimpleNamespace(
        result=SimpleNamespace(status="accepted"), refused={}, numbers=["1"] * per_request
    )
    for _ in range(total - 1):
        advance(outcome, total)
    time.sleep(0.05)
    advance(outcome, total)
    bar.__exit__()
    last = buffer.getvalue().split("\r")[-1].split("\x1b[2K")[-1]
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", last).strip()


@pytest.mark.parametrize("total", [3, 999])
def test_an_80_column_bar_keeps_the_count_and_the_eta(total: int) -> None:
    line = _draw(80, total, 1000)
    assert f"{total}/{total}" in line
    assert "ETA" in line and "…" not in line
    assert f"ok {total * 1000:,}" in line
    assert len(line) <= 80


def test_a_wide_terminal_gets_the_long_form() -> None:
    line = _draw(140, 3, 10)
    assert "3/3" in line and "requests · 30 accepted, 0 not, 0 unknown" in line
