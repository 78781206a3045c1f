"""Request signing: the published vectors (API notes §1.3, §1.4) and properties of the recipe."""

from __future__ import annotations

import hashlib
import random
import re
import urllib.parse
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usms_cli.core.signing import flatten, sign, signed_params, string_to_sign, verify

HEX40 = re.compile(r"[0-9a-f]{40}")

# §1.3: the project's own worked examples.
PUBKEY = "pubkey"
PRIVKEY = "privkey"

# §1.4: every official vector uses this key pair.
DOC_PUBLIC = "ucloudsomeone@example.com1296235120854146120"
DOC_PRIVATE = "46f09bb9fab4f12dfc160dae12273d5332b5debe"

CREATE_UHOST: dict[str, Any] = {
    "Action": "CreateUHostInstance",
    "CPU": 2,
    "ChargeType": "Month",
    "DiskSpace": 10,
    "ImageId": "f43736e1-65a5-4bea-ad2e-8a46e18883c2",
    "LoginMode": "Password",
    "Memory": 2048,
    "Name": "Host01",
    "Password": "VUNsb3VkLmNu",
    "Quantity": 1,
    "Region": "cn-bj2",
    "Zone": "cn-bj2-04",
}


def unsigned(params: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in params.items() if key != "Signature"}


# --------------------------------------------------------------------------- published vectors

VECTORS = [
    pytest.param(
        {
            "Action": "SendUSMSMessage",
            "ProjectId": "org-test",
            "PhoneNumbers": ["18500000000", "(86)13800000000"],
            "SigContent": "UCloud",
            "TemplateId": "UTA1234",
            "TemplateParams": ["123456"],
        },
        PUBKEY,
        PRIVKEY,
        "ActionSendUSMSMessagePhoneNumbers.018500000000PhoneNumbers.1(86)13800000000"
        "ProjectIdorg-testPublicKeypubkeySigContentUCloudTemplateIdUTA1234"
        "TemplateParams.0123456privkey",
        "0d4a8be7be4bcd00f96ab63cdab13418d84dd168",
        id="1.3-send",
    ),
    pytest.param(
        {
            "Action": "SendUSMSMessage",
            "ProjectId": "org-test",
            "PhoneNumbers": ["18500000000"],
            "SigContent": "优刻得",
            "TemplateId": "UTA1234",
            "TemplateParams": ["验证码123"],
        },
        PUBKEY,
        PRIVKEY,
        "ActionSendUSMSMessagePhoneNumbers.018500000000ProjectIdorg-testPublicKeypubkey"
        "SigContent优刻得TemplateIdUTA1234TemplateParams.0验证码123privkey",
        "ef026fafd520c79888165e581636b9e5bcefde7c",
        id="1.3-chinese",
    ),
    pytest.param(
        {"Action": "GetUSMSSendReceipt", "ProjectId": "org-test", "SessionNoSet": ["abc-123"]},
        PUBKEY,
        PRIVKEY,
        "ActionGetUSMSSendReceiptProjectIdorg-testPublicKeypubkeySessionNoSet.0abc-123privkey",
        "1fd1c21eafb453f84223c916b1b707907dbece2a",
        id="1.3-receipt",
    ),
    pytest.param(
        {"Action": "DescribeUHostInstance", "Region": "cn-bj2", "Limit": 10},
        DOC_PUBLIC,
        DOC_PRIVATE,
        "ActionDescribeUHostInstanceLimit10PublicKeyucloudsomeone@example.com1296235120854146120"
        "Regioncn-bj246f09bb9fab4f12dfc160dae12273d5332b5debe",
        "cba5cf5ec4d4233d206b1b54951e3787350a642f",
        id="1.4A-doc",
    ),
    pytest.param(
        CREATE_UHOST,
        DOC_PUBLIC,
        DOC_PRIVATE,
        "ActionCreateUHostInstanceCPU2ChargeTypeMonthDiskSpace10"
        "ImageIdf43736e1-65a5-4bea-ad2e-8a46e18883c2LoginModePasswordMemory2048NameHost01"
        "PasswordVUNsb3VkLmNuPublicKeyucloudsomeone@example.com1296235120854146120Quantity1"
        "Regioncn-bj2Zonecn-bj2-0446f09bb9fab4f12dfc160dae12273d5332b5debe",
        "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65",
        id="1.4B-create-uhost",
    ),
]


@pytest.mark.parametrize(("params", "public", "private", "expected_string", "expected"), VECTORS)
def test_published_vector_string_and_signature(
    params: dict[str, Any], public: str, private: str, expected_string: str, expected: str
) -> None:
    wire = signed_params(params, public, private)
    assert string_to_sign(unsigned(wire), private) == expected_string
    assert sign(unsigned(wire), private) == expected
    assert wire["Signature"] == expected
    assert wire["PublicKey"] == public
    assert verify(wire, private)


def test_published_vector_string_is_hashed_as_utf8() -> None:
    text = (
        "ActionSendUSMSMessagePhoneNumbers.018500000000ProjectIdorg-testPublicKeypubkey"
        "SigContent优刻得TemplateIdUTA1234TemplateParams.0验证码123privkey"
    )
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    assert digest == "ef026fafd520c79888165e581636b9e5bcefde7c"


def test_vector_b_does_not_depend_on_insertion_order() -> None:
    """go-sdk's "unorder" case: the same parameters given in reverse order."""
    reordered = dict(reversed(list(CREATE_UHOST.items())))
    wire = signed_params(reordered, DOC_PUBLIC, DOC_PRIVATE)
    assert wire["Signature"] == "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65"


def test_vector_b_sorts_upper_case_before_lower_case() -> None:
    text = string_to_sign(unsigned(signed_params(CREATE_UHOST, DOC_PUBLIC, DOC_PRIVATE)), "")
    assert text.index("CPU2") < text.index("ChargeTypeMonth")


def test_vector_b_with_a_url_decoded_public_key() -> None:
    """The Go test carries ``ucloudsomeone%40example.com…``; it is decoded before signing."""
    query = urllib.parse.urlencode({**CREATE_UHOST, "PublicKey": DOC_PUBLIC})
    assert "ucloudsomeone%40example.com" in query
    decoded = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    assert sign(decoded, DOC_PRIVATE) == "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65"


LONG_ARRAY = {"Action": "AllocateBackendBatch", "Backends": ["foo", "bar", 42] * 4}


def test_vector_c_long_array_signature() -> None:
    wire = signed_params(LONG_ARRAY, DOC_PUBLIC, DOC_PRIVATE)
    assert wire["Signature"] == "6bc32642779f8cb0bb3d3f128b1c0688abf9a1a3"
    assert [wire[f"Backends.{i}"] for i in range(12)] == ["foo", "bar", "42"] * 4


def test_vector_c_indexes_sort_as_text_not_numbers() -> None:
    text = string_to_sign(unsigned(signed_params(LONG_ARRAY, DOC_PUBLIC, DOC_PRIVATE)), DOC_PRIVATE)
    assert "Backends.0fooBackends.1barBackends.10barBackends.1142Backends.242" in text
    assert text.index("Backends.10") < text.index("Backends.2")
    assert text.index("Backends.11") < text.index("Backends.2")
    assert text.startswith("ActionAllocateBackendBatchBackends.0foo")
    assert text.endswith("Backends.9fooPublicKey" + DOC_PUBLIC + DOC_PRIVATE)


def test_vector_d_sts_security_token_is_an_ordinary_parameter() -> None:
    params = {**CREATE_UHOST, "SecurityToken": "some_stoken"}
    wire = signed_params(params, DOC_PUBLIC, DOC_PRIVATE)
    assert wire["Signature"] == "170c480ad176a247b324eb92a2cfe536aacfbd04"
    text = string_to_sign(unsigned(wire), DOC_PRIVATE)
    assert "Regioncn-bj2SecurityTokensome_stokenZonecn-bj2-04" in text


def test_vector_e_py_sdk_doctest_without_public_key() -> None:
    assert sign(flatten({"foo": "bar"}), "my_private_key") == (
        "634edc1bb957c0d65e5ab5494cf3b7784fbc87af"
    )
    assert string_to_sign(flatten({"foo": "bar"}), "my_private_key") == "foobarmy_private_key"


def test_vector_e_py_sdk_doctest_with_public_key() -> None:
    wire = signed_params({"foo": "bar"}, "my_public_key", "my_private_key")
    assert wire["Signature"] == "d4411ab30953fb0bbcb1e7313081f05e4e91a394"
    assert wire == {
        "foo": "bar",
        "PublicKey": "my_public_key",
        "Signature": "d4411ab30953fb0bbcb1e7313081f05e4e91a394",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"foo": 42}, {"foo": "42"}),
        ({"foo": 42.42}, {"foo": "42.42"}),
        ({"foo": 42.0}, {"foo": "42"}),
        ({"foo": True}, {"foo": "true"}),
        ({"foo": False}, {"foo": "false"}),
        ({"IP": ["127.0.0.1"]}, {"IP.0": "127.0.0.1"}),
        ({"TemplateParams": ["中文"]}, {"TemplateParams.0": "中文"}),
        ({"IP": [{"foo": "bar"}]}, {"IP.0.foo": "bar"}),
    ],
    ids=["int", "float", "whole-float", "true", "false", "list", "cjk-list", "list-of-dicts"],
)
def test_vector_f_encoder_table(params: dict[str, Any], expected: dict[str, str]) -> None:
    assert flatten(params) == expected


def test_flatten_nested_dict_and_none() -> None:
    assert flatten({"A": {"B": 1, "C": {"D": "x"}}, "E": None, "F": ""}) == {
        "A.B": "1",
        "A.C.D": "x",
        "F": "",
    }


def test_incoming_signature_parameter_is_replaced_not_signed() -> None:
    wire = signed_params({"foo": "bar", "Signature": "stale"}, "my_public_key", "my_private_key")
    assert wire["Signature"] == "d4411ab30953fb0bbcb1e7313081f05e4e91a394"
    with_signature = {"foo": "bar", "PublicKey": "my_public_key", "Signature": "x"}
    assert sign(with_signature, "my_private_key") == "d4411ab30953fb0bbcb1e7313081f05e4e91a394"


def test_verify_rejects_missing_and_wrong_signatures() -> None:
    wire = signed_params({"foo": "bar"}, "my_public_key", "my_private_key")
    assert verify(wire, "my_private_key")
    assert verify({**wire, "Signature": wire["Signature"].upper()}, "my_private_key")
    assert not verify(unsigned(wire), "my_private_key")
    assert not verify({**wire, "Signature": "0" * 40}, "my_private_key")
    assert not verify({**wire, "Signature": ""}, "my_private_key")


def test_verify_is_false_not_an_error_for_a_non_ascii_signature() -> None:
    """A server must answer "bad signature", not crash, whatever the client sent."""
    wire = signed_params({"foo": "bar"}, "my_public_key", "my_private_key")
    assert verify({**wire, "Signature": "签名"}, "my_private_key") is False


# --------------------------------------------------------------------------- properties

KEYS = st.text(min_size=1, max_size=12).filter(lambda key: key != "Signature")
FLAT = st.dictionaries(KEYS, st.text(max_size=20), min_size=1, max_size=8)
PRIVATE = st.text(min_size=1, max_size=40)
# Parameter names as the project uses them: ASCII identifiers with optional .N indexes.
NAMES = st.builds(
    lambda name, index: name if index is None else f"{name}.{index}",
    st.sampled_from(
        [
            "Action",
            "ProjectId",
            "PhoneNumbers",
            "SigContent",
            "TemplateId",
            "TemplateParams",
            "SessionNoSet",
            "Region",
            "Zone",
            "a",
            "B",
            "cpu",
        ]
    ),
    st.none() | st.integers(min_value=0, max_value=12),
)
URL_CHARS = list("&=%+?#/ \n\r\t;:@,\"'<>[]{}|\\^`~!$*") + ["a", "9", "é", "中", "😀", "\x00"]
URL_SPECIAL = st.text(alphabet=st.sampled_from(URL_CHARS), max_size=30)


def manual_signature(flat: dict[str, str], private_key: str) -> str:
    text = "".join(key + flat[key] for key in sorted(flat) if key != "Signature") + private_key
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(
        st.tuples(KEYS, st.text(max_size=20)), unique_by=lambda kv: kv[0], min_size=1, max_size=10
    ),
    seed=st.randoms(use_true_random=False),
    private_key=PRIVATE,
)
def test_signature_does_not_depend_on_insertion_order(
    items: list[tuple[str, str]], seed: random.Random, private_key: str
) -> None:
    shuffled = list(items)
    seed.shuffle(shuffled)
    assert sign(dict(items), private_key) == sign(dict(shuffled), private_key)
    assert (
        signed_params(dict(items), "pk", private_key)["Signature"]
        == signed_params(dict(shuffled), "pk", private_key)["Signature"]
    )


@settings(max_examples=150, deadline=None)
@given(flat=FLAT, private_key=PRIVATE)
def test_signature_is_sha1_of_utf8_sorted_concatenation(
    flat: dict[str, str], private_key: str
) -> None:
    expected = manual_signature(flat, private_key)
    assert sign(flat, private_key) == expected
    assert string_to_sign(flat, private_key).encode("utf-8") == (
        "".join(k + flat[k] for k in sorted(flat)) + private_key
    ).encode("utf-8")


@settings(max_examples=50, deadline=None)
@given(
    value=st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
        | st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
        min_size=1,
    )
)
def test_cjk_and_emoji_values_are_signed_raw(value: str) -> None:
    flat = {"Action": "SendUSMSMessage", "TemplateParams.0": value, "PublicKey": PUBKEY}
    assert sign(flat, PRIVKEY) == manual_signature(flat, PRIVKEY)
    assert value in string_to_sign(flat, PRIVKEY)


@settings(max_examples=150, deadline=None)
@given(
    values=st.dictionaries(NAMES, URL_SPECIAL | st.text(max_size=20), min_size=1, max_size=8),
    private_key=PRIVATE,
)
def test_url_special_values_survive_the_form_round_trip(
    values: dict[str, str], private_key: str
) -> None:
    wire = signed_params({"Action": "SendUSMSMessage", **values}, "pub/key+=&", private_key)
    body = urllib.parse.urlencode(wire)
    decoded = urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=False)
    assert dict(decoded) == wire
    assert verify(dict(decoded), private_key)


@settings(max_examples=100, deadline=None)
@given(
    values=st.dictionaries(NAMES, st.text(max_size=15), min_size=1, max_size=8),
    data=st.data(),
    private_key=PRIVATE,
)
def test_changing_one_value_breaks_the_signature(
    values: dict[str, str], data: st.DataObject, private_key: str
) -> None:
    wire = signed_params(values, "pub", private_key)
    target = data.draw(st.sampled_from(sorted(unsigned(wire))), label="target")
    replacement = data.draw(
        st.text(max_size=15).filter(lambda v: v != wire[target]), label="replacement"
    )
    tampered = {**wire, target: replacement}
    assert sign(unsigned(tampered), private_key) != wire["Signature"]
    assert not verify(tampered, private_key)


@settings(max_examples=100, deadline=None)
@given(
    values=st.dictionaries(NAMES, st.text(max_size=15), min_size=1, max_size=8),
    private_key=PRIVATE,
    other=PRIVATE,
)
def test_changing_the_private_key_breaks_the_signature(
    values: dict[str, str], private_key: str, other: str
) -> None:
    wire = signed_params(values, "pub", private_key)
    if other != private_key:
        assert not verify(wire, other)
    assert verify(wire, private_key)


@settings(max_examples=100, deadline=None)
@given(
    values=st.dictionaries(NAMES, st.text(max_size=15), max_size=8),
    public_key=st.text(max_size=20),
    private_key=st.text(min_size=8, max_size=40),
)
def test_signed_params_never_carry_the_private_key(
    values: dict[str, str], public_key: str, private_key: str
) -> None:
    values = {key: value for key, value in values.items() if value != private_key}
    if public_key == private_key:
        public_key = public_key + "-pub"
    wire = signed_params(values, public_key, private_key)
    assert private_key not in wire.values()
    assert set(wire) == set(values) | {"PublicKey", "Signature"}


@settings(max_examples=100, deadline=None)
@given(flat=FLAT, private_key=st.text(max_size=40))
def test_signature_is_40_lower_case_hex(flat: dict[str, str], private_key: str) -> None:
    assert HEX40.fullmatch(sign(flat, private_key))
    assert HEX40.fullmatch(signed_params(flat, "pub", private_key)["Signature"])


@settings(max_examples=200, deadline=None)
@given(form=st.dictionaries(st.text(min_size=1), st.text(), max_size=8))
def test_encode_form_is_exactly_urlencode(form: dict[str, str]) -> None:
    """The fast body encoder writes the same bytes as the standard library."""
    from urllib.parse import urlencode

    from usms_cli.core.api import encode_form

    assert encode_form(form) == urlencode(form).encode("ascii")
