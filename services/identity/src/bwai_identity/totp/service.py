"""TOTP enrolment, verification with replay protection, and one-time recovery codes."""

from __future__ import annotations

import secrets
from typing import NamedTuple
from uuid import UUID

import asyncpg
import segno
import structlog
from bwai_core.db import transaction

from bwai_identity.deps import Deps
from bwai_identity.errors import TotpAlreadyEnrolled, TotpInvalid, TotpNotEnrolled
from bwai_identity.throttle import service as throttle
from bwai_identity.throttle.service import ThrottlePolicy
from bwai_identity.totp import otp, repository

log = structlog.get_logger()

RECOVERY_CODE_COUNT = 10
# 10 characters from a 32-letter alphabet: 50 random bits per code, enough against throttled
# online guessing.
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_RECOVERY_LENGTH = 10


class Enrolment(NamedTuple):
    """A new, not yet confirmed TOTP secret and the ways to load it into an authenticator."""

    secret: str
    otpauth_uri: str
    qr_svg: str
    qr_png_data_uri: str


async def enrol(deps: Deps, user_id: UUID, account: str) -> Enrolment:
    """Create an unconfirmed secret (replacing an unconfirmed one); confirm it with a code."""
    credential = await repository.get_credential(deps.pool, user_id)
    if credential is not None and credential["confirmed_at"] is not None:
        raise TotpAlreadyEnrolled("TOTP is already enrolled for this account")
    secret = otp.new_secret()
    await repository.upsert_pending(deps.pool, user_id, secret, now=deps.clock.now())
    uri = otp.provisioning_uri(secret, account=account, issuer=deps.settings.totp_issuer)
    qr = segno.make(uri, error="m")
    log.info("identity.totp.enrolment_started", user_id=str(user_id))
    return Enrolment(secret, uri, qr.svg_inline(scale=4), qr.png_data_uri(scale=5))


async def confirm(deps: Deps, user_id: UUID, code: str) -> list[str]:
    """Confirm the pending secret with a current code; return new recovery codes (shown once)."""
    credential = await repository.get_credential(deps.pool, user_id)
    if credential is None:
        raise TotpNotEnrolled("start TOTP enrolment first: POST /v1/auth/totp/enrolment")
    if credential["confirmed_at"] is not None:
        raise TotpAlreadyEnrolled("TOTP is already enrolled for this account")
    now = deps.clock.now()
    await throttle.ensure_not_locked(deps.pool, [throttle.totp_key(str(user_id))], now=now)

    step = otp.matching_step(credential["secret"], code, now, after_step=None)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    async with transaction(deps.pool) as conn:
        if step is None or not await repository.use_step(conn, user_id, step, confirm_at=now):
            await _count_failure(deps, user_id)
            raise TotpInvalid("the TOTP code is invalid: enter the current code from the app")
        hashes = [otp.hash_code(code) for code in codes]
        await repository.replace_recovery_codes(conn, user_id, hashes, now=now)
    log.info("identity.totp.enrolled", user_id=str(user_id))
    return codes


async def is_enrolled(deps: Deps, user_id: UUID) -> bool:
    credential = await repository.get_credential(deps.pool, user_id)
    return credential is not None and credential["confirmed_at"] is not None


async def verify_second_factor(deps: Deps, user_id: UUID, code: str) -> str:
    """Accept a current TOTP code or an unused recovery code, once; return "otp" or "recovery".

    Raises TotpNotEnrolled, TooManyAttempts (per-user back-off) or TotpInvalid, which includes
    a code whose time step was already used (RFC 6238 section 5.2).
    """
    now = deps.clock.now()
    key = throttle.totp_key(str(user_id))
    await throttle.ensure_not_locked(deps.pool, [key], now=now)
    credential = await repository.get_credential(deps.pool, user_id)
    if credential is None or credential["confirmed_at"] is None:
        raise TotpNotEnrolled("enrol TOTP first: POST /v1/auth/totp/enrolment")

    method = await _accept(deps, user_id, credential, code)
    if method is None:
        await _count_failure(deps, user_id)
        raise TotpInvalid("the TOTP code is invalid or was already used: wait for the next code")
    await throttle.clear(deps.pool, key)
    return method


async def _accept(deps: Deps, user_id: UUID, credential: asyncpg.Record, code: str) -> str | None:
    now = deps.clock.now()
    code = code.strip()
    if code.isdigit():
        last = credential["last_used_step"]
        step = otp.matching_step(credential["secret"], code, now, after_step=last)
        if step is not None and await repository.use_step(
            deps.pool, user_id, step, confirm_at=None
        ):
            return "otp"
        return None
    if await repository.use_recovery_code(deps.pool, user_id, otp.hash_code(code), now=now):
        log.info("identity.totp.recovery_code_used", user_id=str(user_id))
        return "recovery"
    return None


async def _count_failure(deps: Deps, user_id: UUID) -> None:
    settings = deps.settings
    policy = ThrottlePolicy(
        settings.login_free_failures_per_account,
        settings.login_max_lock_seconds,
        settings.login_failure_window_seconds,
    )
    await throttle.record_failure(
        deps.pool, throttle.totp_key(str(user_id)), policy, now=deps.clock.now()
    )


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"
