"""The Chinese pass's reading of English checks (tests/heard.py): it must find a message the
Chinese output says, and must not find one it does not say, or ``not in`` checks lose their
meaning."""

from __future__ import annotations

import pytest

from tests.heard import Heard, says

SENT = "发送成功：1 个接收人已提交（1 个请求）。\n"
NO_KEYS = (
    "usms: 错误：没有 UCloud 密钥：未设置 UCLOUD_PUBLIC_KEY 和 UCLOUD_PRIVATE_KEY；未发送任何请求\n"
)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (SENT, "Sent: 1 recipient accepted in 1 request."),  # messages filled into one another
        (SENT, "Sent:"),  # one word of a message
        (NO_KEYS, "UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY not set"),
        (NO_KEYS, "nothing was sent"),
        ("usms: 错误：--fail-number 'abc': 含有字母\n", "--fail-number 'abc': contains letters"),
        ("  沙箱 → 13800000000：【USMSSandbox】您的验证码是1。\n", "sandbox → 13800000000"),
    ],
)
def test_a_message_the_chinese_output_says_is_found(text: str, needle: str) -> None:
    assert says(text, needle)
    assert needle in Heard(text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (SENT, "Sent: 2 recipients accepted"),  # a value that differs
        (SENT, "nothing was sent"),  # a message that is not there
        (NO_KEYS, "test-public-key-7f3a"),  # a value: only ever as it is
        (NO_KEYS, "-p/--param"),  # options and symbols say nothing of their own
        ("【USMSSandbox】您的验证码是00，5分钟内有效。\n", "您的验证码是01，"),  # Chinese: as it is
        ("SessionNo sn-1 (1 number)\n", "refused"),  # brackets and a field name are no message
    ],
)
def test_a_message_it_does_not_say_is_not_found(text: str, needle: str) -> None:
    assert not says(text, needle)
    assert needle not in Heard(text)


def test_heard_text_stays_heard_when_joined_split_or_stripped() -> None:
    joined = Heard(SENT) + NO_KEYS
    assert isinstance(joined, Heard) and "nothing was sent" in joined
    assert all(isinstance(line, Heard) for line in joined.splitlines())
    assert "Sent:" in joined.strip()
