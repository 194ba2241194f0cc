"""Every entry of the shared signature and canonical-form vectors, run through our verifiers."""

from __future__ import annotations

from typing import Any

import pytest
from bwai_providers import PayloadInvalid, SignatureInvalid, parse_json_object
from bwai_providers.coinbase import verify_webhook
from bwai_providers.nowpayments import canonical_json, sign_ipn, verify_ipn
from provider_fixtures import load_vectors

VECTORS = load_vectors()

# Expected failure per invalid vector, as each vector's note states it.
INVALID_REASONS: dict[str, type[Exception]] = {
    "CB-1-wrong-secret": SignatureInvalid,
    "CB-1-signature-3-replaced-by-1": SignatureInvalid,
    "CB-1-body-reserialised": SignatureInvalid,
    "CB-1-not-json": PayloadInvalid,
    "CB-1-no-event-key": PayloadInvalid,
}


def _by_kind(kind: str) -> list[Any]:
    return [pytest.param(v, id=v["id"]) for v in VECTORS if v["kind"] == kind]


def _verify(vector: dict[str, Any]) -> Any:
    verify = verify_ipn if vector["provider"] == "nowpayments" else verify_webhook
    return verify(vector["body"].encode("utf-8"), vector["signature"], [vector["secret"]])


def test_vector_file_covers_every_kind() -> None:
    kinds = {v["kind"] for v in VECTORS}

    assert kinds == {"valid", "invalid", "canonical"}
    assert {v["id"] for v in VECTORS if v["kind"] == "invalid"} == set(INVALID_REASONS)


@pytest.mark.parametrize("vector", _by_kind("valid"))
def test_valid_vector_accepted(vector: dict[str, Any]) -> None:
    verified = _verify(vector)

    assert verified.secret_index == 0
    assert isinstance(verified.payload, dict)


@pytest.mark.parametrize("vector", _by_kind("valid"))
def test_valid_vector_accepted_with_upper_case_signature(vector: dict[str, Any]) -> None:
    upper = dict(vector, signature=vector["signature"].upper())

    assert _verify(upper).secret_index == 0


@pytest.mark.parametrize("vector", _by_kind("invalid"))
def test_invalid_vector_rejected_with_reason(vector: dict[str, Any]) -> None:
    with pytest.raises(INVALID_REASONS[vector["id"]]):
        _verify(vector)


@pytest.mark.parametrize("vector", _by_kind("canonical"))
def test_canonical_vector_string_exact(vector: dict[str, Any]) -> None:
    payload = parse_json_object(vector["body"].encode("utf-8"))

    assert canonical_json(payload) == vector["canonical"]


@pytest.mark.parametrize(
    "vector", [p for p in _by_kind("valid") if p.values[0]["provider"] == "nowpayments"]
)
def test_sign_ipn_reproduces_canonical_vectors(vector: dict[str, Any]) -> None:
    signature = sign_ipn(vector["body"].encode("utf-8"), vector["secret"])

    if vector["id"] == "NP-3-array-as-indexed-object":
        assert signature != vector["signature"]
    else:
        assert signature == vector["signature"]


def test_array_vector_accepted_through_indexed_object_form() -> None:
    vector = next(v for v in VECTORS if v["id"] == "NP-3-array-as-indexed-object")

    verified = _verify(vector)

    assert verified.signed_form == "canonical_arrays_as_objects"


def test_pretty_printed_body_verified_through_canonical_form() -> None:
    vector = next(v for v in VECTORS if v["id"] == "NP-3-canonical")

    verified = _verify(vector)

    assert verified.signed_form == "canonical"
