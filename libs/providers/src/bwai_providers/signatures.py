"""HMAC comparison shared by the providers' verifiers."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence
from typing import Any

from bwai_providers.errors import SignatureInvalid, SignatureMissing

# hashlib constructors such as hashlib.sha512.
Digest = Callable[..., Any]


def hex_hmac(secret: str, message: bytes, digest: Digest) -> str:
    """Return the lowercase hex HMAC of `message` keyed by the UTF-8 bytes of `secret`."""
    return hmac.new(secret.encode("utf-8"), message, digest).hexdigest()


def normalise_signature(signature: str | None, *, hex_length: int) -> bytes:
    """Return the header value as lowercase ASCII bytes ready for a constant-time compare.

    Raises SignatureMissing for an absent or blank header and SignatureInvalid for a value
    that cannot be a hex digest of the expected length.
    """
    if signature is None or not signature.strip():
        raise SignatureMissing("signature header is missing")
    value = signature.strip().lower()
    if re.fullmatch(f"[0-9a-f]{{{hex_length}}}", value) is None:
        raise SignatureInvalid("signature header is not a hex digest of the expected length")
    return value.encode("ascii")


def find_matching_secret(
    expected: bytes,
    secrets: Sequence[str],
    messages: Sequence[bytes],
    digest: Digest,
) -> tuple[int, int] | None:
    """Return (secret index, message index) of the first HMAC equal to `expected`, else None.

    Secrets are tried in order, so the current secret wins over the previous one. Every
    comparison runs in constant time.
    """
    if not secrets:
        raise ValueError("at least one webhook secret is required")
    for secret_index, secret in enumerate(secrets):
        for message_index, message in enumerate(messages):
            candidate = hex_hmac(secret, message, digest).encode("ascii")
            if hmac.compare_digest(candidate, expected):
                return secret_index, message_index
    return None
