"""Coinbase Commerce webhook signatures: HMAC-SHA256 over the exact raw body.

As in Coinbase's SDKs, the body must be a JSON object with an `event` key before the signature
is looked at. The signature arrives in `X-CC-Webhook-Signature`; callers look that header up
case-insensitively because Coinbase's docs print it in several casings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from bwai_providers.errors import PayloadInvalid, SignatureInvalid
from bwai_providers.payload import VerifiedPayload, parse_json_object
from bwai_providers.signatures import find_matching_secret, hex_hmac, normalise_signature

SIGNATURE_HEADER = "x-cc-webhook-signature"
_SHA256_HEX_LENGTH = 64


def sign_webhook(raw_body: bytes, secret: str) -> str:
    """Return the lowercase hex HMAC-SHA256 of the raw body, as Coinbase signs it."""
    return hex_hmac(secret, raw_body, hashlib.sha256)


def verify_webhook(
    raw_body: bytes, signature: str | None, secrets: Sequence[str]
) -> VerifiedPayload:
    """Check a webhook's signature against each secret; return the parsed body.

    Raises PayloadInvalid when the body is not a JSON object with an `event` key (checked
    first), SignatureMissing without a signature, and SignatureInvalid when no secret matches.
    `secrets` lists the current secret first, then the previous one during a rotation.
    """
    payload = parse_json_object(raw_body)
    if "event" not in payload:
        raise PayloadInvalid("body has no 'event' key", field="event")
    expected = normalise_signature(signature, hex_length=_SHA256_HEX_LENGTH)

    match = find_matching_secret(expected, secrets, [raw_body], hashlib.sha256)
    if match is None:
        raise SignatureInvalid("signature does not match the body under any configured secret")
    return VerifiedPayload(payload, match[0])
