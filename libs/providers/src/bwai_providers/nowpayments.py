"""NOWPayments IPN signatures: HMAC-SHA512 over the body's JavaScript-style canonical form.

NOWPayments documents "sort the keys, JSON.stringify, HMAC-SHA512 with the IPN secret", while
its own samples disagree on nested objects and arrays. The verifier therefore accepts, in order:
the form with keys sorted at every depth and arrays kept, the same form with every array written
as an index-keyed object, and the raw body as delivered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from bwai_providers.errors import PayloadInvalid, SignatureInvalid
from bwai_providers.jsjson import canonical_json, js_number
from bwai_providers.payload import VerifiedPayload, parse_json_object
from bwai_providers.signatures import find_matching_secret, hex_hmac, normalise_signature

SIGNATURE_HEADER = "x-nowpayments-sig"
_SHA512_HEX_LENGTH = 128

FORM_CANONICAL = "canonical"
FORM_ARRAYS_AS_OBJECTS = "canonical_arrays_as_objects"
FORM_RAW_BODY = "raw_body"

__all__ = [
    "SIGNATURE_HEADER",
    "canonical_json",
    "js_number",
    "sign_ipn",
    "verify_ipn",
]


def sign_ipn(raw_body: bytes, secret: str) -> str:
    """Return the lowercase hex signature NOWPayments sends for this body.

    Raises PayloadInvalid when the body is not a JSON object.
    """
    canonical = canonical_json(parse_json_object(raw_body))
    return hex_hmac(secret, canonical.encode("utf-8"), hashlib.sha512)


def verify_ipn(raw_body: bytes, signature: str | None, secrets: Sequence[str]) -> VerifiedPayload:
    """Check an IPN's `x-nowpayments-sig` value against each secret; return the parsed body.

    Raises SignatureMissing without a signature, PayloadInvalid when the body is not a JSON
    object, and SignatureInvalid when no accepted form matches under any secret. `secrets`
    lists the current secret first, then the previous one during a rotation.
    """
    expected = normalise_signature(signature, hex_length=_SHA512_HEX_LENGTH)
    payload = parse_json_object(raw_body)
    forms = _signed_forms(payload, raw_body)

    match = find_matching_secret(expected, secrets, list(forms.values()), hashlib.sha512)
    if match is None:
        raise SignatureInvalid("signature does not match the body under any configured secret")
    secret_index, form_index = match
    return VerifiedPayload(payload, secret_index, signed_form=list(forms)[form_index])


def _signed_forms(payload: dict[str, object], raw_body: bytes) -> dict[str, bytes]:
    """Return each distinct byte string NOWPayments may have signed, most likely first."""
    try:
        canonical = canonical_json(payload).encode("utf-8")
        indexed = canonical_json(payload, arrays_as_objects=True).encode("utf-8")
    except RecursionError as exc:
        raise PayloadInvalid("body is nested too deeply") from exc

    forms = {FORM_CANONICAL: canonical}
    if indexed != canonical:
        forms[FORM_ARRAYS_AS_OBJECTS] = indexed
    if raw_body not in (canonical, indexed):
        forms[FORM_RAW_BODY] = raw_body
    return forms
