"""Fuzzing what usms reads from others: API answers of any shape, and UCloud profile files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PRIVATE_KEY, creds, run_usms
from tests.servers.raw import RawServer, constant, http_response

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Answers that look like USMS answers with random field values, and anything else.
ANSWERS = (
    st.fixed_dictionaries(
        {"RetCode": JSON, "Message": JSON},
        optional={"SessionNo": JSON, "Data": JSON, "FailContent": JSON, "Action": JSON},
    )
    | JSON
)


def serve(body: bytes, status: int) -> RawServer:
    return RawServer(constant(http_response(status, body)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=ANSWERS, status=st.sampled_from([200, 200, 200, 400, 500, 503]))
def test_any_api_answer_maps_to_a_documented_exit_code(answer: Any, status: int) -> None:
    body = json.dumps(answer, allow_nan=True).encode()
    with serve(body, status) as server:
        result = run_usms(
            "send",
            "--base-url",
            server.url,
            "-t",
            "T",
            "-s",
            "SS",
            "--json",
            "13800000000",
            env=creds(),
            expect=None,
        )
        sent = server.count
    assert result.exit_code in {0, 1, 4, 5}, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["exit_code"] == result.exit_code  # one JSON object
    assert sent == 1  # a send is never repeated after the request was written


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=ANSWERS)
def test_any_receipt_answer_is_handled(answer: Any) -> None:
    with serve(json.dumps(answer, allow_nan=True).encode(), 200) as server:
        result = run_usms("receipt", "--base-url", server.url, "sn-1", env=creds(), expect=None)
    assert result.exit_code in {0, 1, 4, 5}, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    config=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()),
    credential=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()),
)
def test_any_profile_files_never_crash_and_never_print_the_key(
    tmp_path: Path, config: bytes, credential: bytes
) -> None:
    home = Path.home() / ".ucloud"
    home.mkdir(exist_ok=True)
    (home / "config.json").write_bytes(config)
    (home / "credential.json").write_bytes(credential + PRIVATE_KEY.encode())
    result = run_usms("send", "--dry-run", "-t", "T", "-s", "SS", "13800000000", expect=None)
    assert result.exit_code in {0, 2}, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert PRIVATE_KEY not in result.stdout + result.stderr
    show = run_usms("config", "show", "--json", expect=None)
    assert show.exit_code in {0, 2}
    assert PRIVATE_KEY not in show.stdout + show.stderr
