"""HOTP and TOTP against the RFC 4226 and RFC 6238 test vectors, and the replay rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bwai_identity.totp import otp

# RFC 4226 appendix D: the secret is the ASCII string "12345678901234567890".
RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = [
    "755224", "287082", "359152", "969429", "338314",
    "254676", "287922", "162583", "399871", "520489",
]  # fmt: skip

# RFC 6238 appendix B: 8-digit codes; each digest has its own seed of the RFC's lengths.
RFC6238_SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238_CODES = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("counter", range(10))
def test_hotp_matches_rfc4226_vectors(counter: int) -> None:
    assert otp.hotp(RFC4226_SECRET, counter) == RFC4226_CODES[counter]


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), RFC6238_CODES)
def test_totp_matches_rfc6238_vectors(unix_time: int, sha1: str, sha256: str, sha512: str) -> None:
    moment = datetime.fromtimestamp(unix_time, UTC)

    assert otp.totp(RFC6238_SEEDS["sha1"], moment, digits=8, digest="sha1") == sha1
    assert otp.totp(RFC6238_SEEDS["sha256"], moment, digits=8, digest="sha256") == sha256
    assert otp.totp(RFC6238_SEEDS["sha512"], moment, digits=8, digest="sha512") == sha512


def test_matching_step_accepts_one_step_of_drift() -> None:
    secret = otp.new_secret()
    now = datetime(2026, 1, 15, 12, 0, 10, tzinfo=UTC)
    previous = otp.hotp(otp.decode_secret(secret), otp.time_step(now) - 1)

    step = otp.matching_step(secret, previous, now, after_step=None)

    assert step == otp.time_step(now) - 1


def test_matching_step_rejects_used_and_older_steps() -> None:
    secret = otp.new_secret()
    now = datetime(2026, 1, 15, 12, 0, 10, tzinfo=UTC)
    current = otp.totp(otp.decode_secret(secret), now)
    previous = otp.hotp(otp.decode_secret(secret), otp.time_step(now) - 1)

    assert otp.matching_step(secret, current, now, after_step=otp.time_step(now)) is None
    assert otp.matching_step(secret, previous, now, after_step=otp.time_step(now)) is None


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = otp.provisioning_uri(
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", account="ada@example.com", issuer="Build With AI"
    )

    assert uri.startswith("otpauth://totp/Build%20With%20AI:ada%40example.com?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri
    assert "issuer=Build%20With%20AI" in uri
