"""HOTP (RFC 4226) and TOTP (RFC 6238) codes, and the otpauth URI authenticator apps read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

# RFC 6238 defaults, which every common authenticator app expects.
PERIOD_S = 30
DIGITS = 6
# Codes of the previous and next step are accepted too, for clock drift between the
# authenticator and this server (RFC 6238 section 5.2 recommends at most one step).
DRIFT_STEPS = 1
# 160 bits, the HMAC-SHA1 block-size key length RFC 4226 section 4 recommends.
SECRET_BYTES = 20


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """Return the HOTP value of `counter` (RFC 4226 section 5.3, dynamic truncation)."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), digest).digest()
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFF_FFFF
    return str(binary % 10**digits).zfill(digits)


def time_step(moment: datetime, *, period_s: int = PERIOD_S) -> int:
    """Return the RFC 6238 time step T = floor(unix time / period) of `moment`."""
    return int(moment.timestamp()) // period_s


def totp(key: bytes, moment: datetime, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    return hotp(key, time_step(moment), digits=digits, digest=digest)


def matching_step(
    secret_b32: str, code: str, moment: datetime, *, after_step: int | None
) -> int | None:
    """Return the time step whose code equals `code`, within the drift window; else None.

    Steps at or before `after_step` (the last accepted one) never match, so a code cannot be
    used twice, nor can an older code after a newer one (RFC 6238 section 5.2).
    """
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = decode_secret(secret_b32)
    current = time_step(moment)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def new_secret() -> str:
    """Return a new random shared secret in unpadded base32, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def decode_secret(secret_b32: str) -> bytes:
    padding = "=" * (-len(secret_b32) % 8)
    return base64.b32decode(secret_b32 + padding, casefold=True)


def provisioning_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    """Return the otpauth://totp URI (Key Uri Format) that an authenticator app scans."""
    return pyotp.TOTP(secret_b32, digits=DIGITS, interval=PERIOD_S).provisioning_uri(
        name=account, issuer_name=issuer
    )


def hash_code(code: str) -> bytes:
    """Return the SHA-256 of a normalised recovery code (upper case, no separators)."""
    return hashlib.sha256(normalise_recovery_code(code).encode()).digest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())
