"""The NOWPayments canonical form: JavaScript number spelling, string escaping and key order."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from bwai_providers import parse_json_object
from bwai_providers.jsjson import js_string, sorted_keys
from bwai_providers.nowpayments import canonical_json, js_number, sign_ipn, verify_ipn
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("0.000002", "0.000002"),
        ("2e-06", "0.000002"),
        ("8.3e-05", "0.000083"),
        ("1e-7", "1e-7"),
        ("1.5E-7", "1.5e-7"),
        ("13.0", "13"),
        ("-2.50", "-2.5"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("0.1", "0.1"),
        ("1e20", "100000000000000000000"),
        ("1e21", "1e+21"),
        ("1.5e21", "1.5e+21"),
        ("123456789012345678901234", "1.2345678901234569e+23"),
        ("12345678901234567890", "12345678901234567000"),
        ("9007199254740993", "9007199254740992"),
        ("0.1234567890123456789", "0.12345678901234568"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("1e400", "null"),
    ],
)
def test_js_number_spelling(spelling: str, expected: str) -> None:
    value = parse_json_object(f'{{"v":{spelling}}}'.encode())["v"]

    assert js_number(value) == expected


def test_js_number_rejects_boolean() -> None:
    with pytest.raises(TypeError):
        js_number(True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x1f\x7f", '"\\u0000\\u001f\x7f"'),
        ("a<b>&c / é", '"a<b>&c / é"'),
        ("\ud800", '"\\ud800"'),
        ("x\udfffy", '"x\\udfffy"'),
        ("\U0001d11e", '"\U0001d11e"'),
        ("\ud834\udd1e", '"\U0001d11e"'),
        ("\u2028\u2029", '"\u2028\u2029"'),
    ],
)
def test_js_string_escaping(text: str, expected: str) -> None:
    assert js_string(text) == expected


def test_keys_integer_like_first_then_utf16_order() -> None:
    keys = ["b", "10", "a", "2", "01", "-1", "4294967295", "4294967294", "\uffff", "\U0001d11e"]

    assert sorted_keys(keys) == [
        "2",
        "10",
        "4294967294",
        "-1",
        "01",
        "4294967295",
        "a",
        "b",
        # U+1D11E is the surrogate pair D834 DD1E, which sorts before U+FFFF in UTF-16.
        "\U0001d11e",
        "\uffff",
    ]


def test_nested_objects_sorted_inside_arrays() -> None:
    payload = parse_json_object(b'{"z":[{"b":1,"a":{"d":2,"c":3}}],"a":null}')

    assert canonical_json(payload) == '{"a":null,"z":[{"a":{"c":3,"d":2},"b":1}]}'


def test_arrays_as_objects_form() -> None:
    payload = parse_json_object(b'{"ids":["x",["y"],[]],"n":[1]}')

    text = canonical_json(payload, arrays_as_objects=True)

    assert text == '{"ids":{"0":"x","1":{"0":"y"},"2":{}},"n":{"0":1}}'


def test_verify_ipn_accepts_previous_secret() -> None:
    body = b'{"payment_id":1,"payment_status":"finished"}'
    signature = sign_ipn(body, "old-secret")

    verified = verify_ipn(body, signature, ["new-secret", "old-secret"])

    assert verified.secret_index == 1


def test_verify_ipn_accepts_hmac_over_raw_body() -> None:
    body = b'{"b":1,"a":2}'
    signature = hmac.new(b"secret", body, hashlib.sha512).hexdigest()

    verified = verify_ipn(body, signature, ["secret"])

    assert verified.signed_form == "raw_body"


# JSON values as the parser produces them: no floats, Decimal for fractions.
_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda d: abs(d) < Decimal("1e300")
)
_json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Decimal(repr(f)))
    | _decimals
    | st.text(max_size=12)
)
_json_values = st.recursive(
    _json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)
_json_objects = st.dictionaries(st.text(max_size=8), _json_values, max_size=8)


@given(_json_objects)
def test_canonical_form_is_stable_when_reparsed(payload: dict[str, Any]) -> None:
    text = canonical_json(payload)

    assert canonical_json(parse_json_object(text.encode("utf-8"))) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_number_reads_back_as_same_double(number: float) -> None:
    text = js_number(Decimal(repr(number)))

    assert float(text) == number or (number == 0 and text == "0")


@given(_json_objects, st.randoms(use_true_random=False))
def test_signature_independent_of_layout(payload: dict[str, Any], rng: random.Random) -> None:
    signature = sign_ipn(canonical_json(payload).encode("utf-8"), "secret")
    relaid = _shuffled_python_json(payload, rng)

    verified = verify_ipn(relaid.encode("utf-8"), signature, ["secret"])

    assert verified.signed_form == "canonical"


def _shuffled_python_json(value: Any, rng: random.Random) -> str:
    """Write JSON as a Python sender might: keys shuffled, spaces, Python number spellings."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        inner = ", ".join(f"{json.dumps(k)}: {_shuffled_python_json(v, rng)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_shuffled_python_json(v, rng) for v in value) + "]"
    if isinstance(value, Decimal):
        return repr(float(value)) if rng.random() < 0.5 else str(value)
    return json.dumps(value)
