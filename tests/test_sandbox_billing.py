"""The sandbox bills what the cost preview promised: same segments for the same message.

The rule (docs §4.4): every character counts 1; a domestic message, or an international one
that is not plain GSM 7-bit text, holds 70 characters, then 67 per segment; an international
message in the GSM 7-bit alphabet holds 160, then 153 per segment (an extension character
such as ``{`` or ``€`` takes two septets). The signature (``【Sig】`` / ``[Sig]``) counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import run_unchecked as run_usms  # they check exit codes themselves
from usms_cli.core.cost import measure
from usms_cli.core.privacy import Masker
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    Signature,
    Template,
    start_sandbox,
)
from usms_cli.sandbox.backend import ACTIONS, Backend, reply_for

ANY = "UTANY"  # a template that is just its one param
SIG = "USMSSandbox"  # "[USMSSandbox]": 13 characters, 15 septets

GSM_BASIC = "abcXYZ0189 .,:;!?@£$¥èéÄÖÑÜ§¿_-()'\"%&*+/<=>\n"
GSM_EXTENSION = "{}[]~^|\\€"
NOT_GSM = "验证码您好，。ęłšç“”"
DOMESTIC = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
INTERNATIONAL = st.sampled_from(["(1)4155550100", "(852)91234567", "(44)7700900123"])
# The boundaries: one segment ends at 70 or 160; then segments of 67 or 153.
BOUNDARIES = sorted({70, 160, *(67 * n for n in range(2, 8)), *(153 * n for n in range(2, 4))})


# ---- the case that drifted ----------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(receipt_delay=0)
    config.templates[ANY] = Template(ANY, "{1}")
    with start_sandbox(config) as server:
        yield server


def env_for(server: SandboxServer) -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": "org-sandbox",
        "USMS_TEMPLATE_ID": ANY,
        "USMS_SIG_CONTENT": SIG,
    }


@pytest.mark.parametrize(
    ("number", "body", "segments"),
    [
        ("+1 415 555 0100", "a" * 101, 1),  # 114 GSM characters abroad: one SMS
        # "[" and "]" are extension characters: "[USMSSandbox]" takes 15 septets.
        ("+1 415 555 0100", "a" * 145, 1),  # 158 characters, 160 septets
        ("+1 415 555 0100", "a" * 146, 2),  # 161 septets
        ("13800000000", "a" * 101, 2),  # the same 114 characters at home: 70/67
        ("+1 415 555 0100", "a" * 100 + "ę", 2),  # not GSM: 70/67 abroad too
    ],
)
def test_receipt_cost_count_matches_the_dry_run_cost(
    sandbox: SandboxServer, number: str, body: str, segments: int
) -> None:
    env = env_for(sandbox)
    preview = run_usms("send", "--dry-run", "--json", "-p", body, number, env=env)
    assert preview.exit_code == 0, preview.stderr
    assert preview.json["cost"]["total_segments"] == segments

    sent = run_usms("send", "-q", "-p", body, number, env=env)
    assert sent.exit_code == 0, sent.stderr
    found = run_usms("receipt", "--json", sent.stdout.strip(), env=env)
    assert found.exit_code == 0, found.stderr
    [receipt] = found.json["receipts"]
    assert receipt["CostCount"] == segments


# ---- every message: sandbox (no HTTP) against the cost preview -----------------------------


def billed(backend: Backend, phone: str, sig: str, text: str) -> int:
    def act(action: str, **params: str) -> dict[str, Any]:
        return ACTIONS[action](backend, {"Action": action, **params}, reply_for(action))

    fields = {"PhoneNumbers.0": phone, "TemplateId": ANY, "TemplateParams.0": text}
    answer = act("SendUSMSMessage", SigContent=sig, **fields)
    assert answer["RetCode"] == 0, answer
    found = act("GetUSMSSendReceipt", **{"SessionNoSet.0": answer["SessionNo"]})
    [receipt] = found["Data"][0]["ReceiptSet"]
    cost: int = receipt["CostCount"]
    return cost


def previewed(phone: str, sig: str, text: str) -> int:
    return measure("{1}", sig, [(phone, [text], "")], Masker()).total_segments


@st.composite
def messages(draw: st.DrawFn) -> tuple[str, str, str]:
    """(wire phone, signature, param): lengths near a boundary, the signature's included."""
    phone = draw(st.one_of(DOMESTIC, INTERNATIONAL))
    sig = draw(st.text(alphabet="AcmeSMS优刻得_09", min_size=2, max_size=12))
    alphabet = draw(
        st.sampled_from(
            [GSM_BASIC, GSM_BASIC + GSM_EXTENSION, NOT_GSM, GSM_BASIC + NOT_GSM, GSM_EXTENSION]
        )
    )
    total = draw(st.sampled_from(BOUNDARIES)) + draw(st.integers(-2, 2))
    size = max(1, min(total, 500) - len(sig) - 2)
    text = draw(st.text(alphabet=alphabet, min_size=size, max_size=size))
    # A few extension characters or one non-GSM character tip a GSM text over its edge.
    text += draw(st.text(alphabet=GSM_EXTENSION + NOT_GSM[:2], max_size=2))
    return phone, sig, text[: 500 - len(sig) - 2]


@settings(max_examples=400, deadline=None)
@given(messages())
@example(("(1)4155550100", SIG, "a" * 101))  # 114 characters: the drift that was found
@example(("(1)4155550100", SIG, "a" * 144 + "{"))  # 161 septets in 159 characters
@example(("13800000000", SIG, "a" * 57))  # 70 at home
def test_the_sandbox_bills_what_the_cost_preview_counts(message: tuple[str, str, str]) -> None:
    phone, sig, text = message
    config = SandboxConfig(receipt_delay=0, templates={ANY: Template(ANY, "{1}")})
    config.signatures[sig] = Signature(f"SIG-{sig}", sig)
    assert billed(Backend(config), phone, sig, text) == previewed(phone, sig, text)
