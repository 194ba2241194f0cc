"""Sign-up to sign-in over HTTP with real SMTP, refresh rotation, throttling, TOTP and step-up."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from bwai_core.clock import FrozenClock
from bwai_identity.keys.service import load_jwks
from bwai_identity.operators import create_operator, rotate_keys
from bwai_identity.totp import otp
from bwai_web.auth import TokenInvalid
from bwai_web.service import ServiceContext
from bwai_web.stepup import STEP_UP_HEADER

from tests.services.identity.conftest import MailSink

PASSWORD = "correct horse battery staple"
EMAIL = "ada@example.com"


def _token_from(sink: MailSink, to: str, index: int = -1) -> str:
    text, html = sink.bodies(to)[index]
    match = re.search(r"token=([A-Za-z0-9_-]+)", text)
    assert match is not None, text
    assert match.group(1) in html
    return match.group(1)


async def _sign_up_and_verify(
    client: httpx.AsyncClient, sink: MailSink, email: str = EMAIL
) -> None:
    response = await client.post(
        "/v1/auth/signup", json={"email": email, "password": PASSWORD, "tenant": "acme"}
    )
    assert response.status_code == 202, response.text
    verified = await client.post("/v1/auth/verify-email", json={"token": _token_from(sink, email)})
    assert verified.status_code == 200, verified.text


async def _login(client: httpx.AsyncClient, **extra: object) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": EMAIL, "password": PASSWORD, **extra})


async def test_sign_up_email_verify_login_token_verifies(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    mail_sink: tuple[MailSink, int],
) -> None:
    sink = mail_sink[0]

    await _sign_up_and_verify(identity_client, sink)
    response = await _login(identity_client)

    body = response.json()
    assert response.status_code == 200, body
    principal = await identity_ctx.token_verifier.verify(body["access_token"])
    assert principal.tenant_id == body["tenant_id"]
    assert principal.has_role("owner")
    assert principal.has_role("tenant")
    assert principal.amr == frozenset({"pwd"})
    assert principal.auth_time == int(identity_ctx.clock.now().timestamp())
    assert principal.client_id is None
    text, html = sink.bodies(EMAIL)[0]
    assert "Verify my email address" in text
    assert "<a href=" in html


async def test_sign_up_events_are_enqueued(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    mail_sink: tuple[MailSink, int],
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])

    types = [
        row["event_type"] for row in await identity_ctx.pool.fetch("SELECT event_type FROM outbox")
    ]

    assert sorted(types) == [
        "identity.tenant.created",
        "identity.user.email_verified",
        "identity.user.registered",
    ]


async def test_weak_password_is_rejected_with_reasons(identity_client: httpx.AsyncClient) -> None:
    response = await identity_client.post(
        "/v1/auth/signup", json={"email": EMAIL, "password": "short", "tenant": "acme"}
    )

    assert response.status_code == 422
    assert "at least 12 characters" in response.json()["detail"]


async def test_unverified_login_refused_only_after_correct_password(
    identity_client: httpx.AsyncClient,
) -> None:
    await identity_client.post(
        "/v1/auth/signup", json={"email": EMAIL, "password": PASSWORD, "tenant": "acme"}
    )

    wrong = await identity_client.post(
        "/v1/auth/login", json={"email": EMAIL, "password": "not the password at all"}
    )
    right = await _login(identity_client)

    assert wrong.status_code == 401
    assert wrong.json()["type"].endswith("invalid-credentials")
    assert right.status_code == 403
    assert right.json()["type"].endswith("email-not-verified")
    assert "/v1/auth/verify-email/resend" in right.json()["detail"]


async def test_verification_token_is_single_use(
    identity_client: httpx.AsyncClient, mail_sink: tuple[MailSink, int]
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])

    again = await identity_client.post(
        "/v1/auth/verify-email", json={"token": _token_from(mail_sink[0], EMAIL)}
    )

    assert again.status_code == 400


async def test_resend_is_rate_limited_for_any_address(
    identity_client: httpx.AsyncClient,
) -> None:
    for email in (EMAIL, "nobody@example.com"):
        first = await identity_client.post("/v1/auth/verify-email/resend", json={"email": email})
        second = await identity_client.post("/v1/auth/verify-email/resend", json={"email": email})

        assert first.status_code == 202
        assert second.status_code == 429
        assert second.headers["retry-after"] == "60"


async def test_refresh_rotates_and_reuse_revokes_family(
    identity_client: httpx.AsyncClient, mail_sink: tuple[MailSink, int]
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])
    first = (await _login(identity_client)).json()["refresh_token"]

    rotated = await identity_client.post("/v1/auth/refresh", json={"refresh_token": first})
    second = rotated.json()["refresh_token"]
    reused = await identity_client.post("/v1/auth/refresh", json={"refresh_token": first})
    after_reuse = await identity_client.post("/v1/auth/refresh", json={"refresh_token": second})

    assert rotated.status_code == 200
    assert second != first
    assert reused.status_code == 401
    assert after_reuse.status_code == 401


async def test_logout_ends_refresh(
    identity_client: httpx.AsyncClient, mail_sink: tuple[MailSink, int]
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])
    tokens = (await _login(identity_client)).json()

    logout = await identity_client.post(
        "/v1/auth/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    refreshed = await identity_client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )

    assert logout.status_code == 204
    assert refreshed.status_code == 401


@pytest.mark.parametrize("email", [EMAIL, "nobody@example.com"])
async def test_failed_logins_lock_with_same_answer(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    mail_sink: tuple[MailSink, int],
    email: str,
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])
    attempt = {"email": email, "password": "wrong password, quite long"}
    for _ in range(5):
        failed = await identity_client.post("/v1/auth/login", json=attempt)
        assert failed.status_code == 401

    locked = await identity_client.post("/v1/auth/login", json=attempt)
    assert isinstance(identity_ctx.clock, FrozenClock)
    identity_ctx.clock.advance(timedelta(seconds=2))
    unlocked_then_failed = await identity_client.post("/v1/auth/login", json=attempt)
    locked_longer = await identity_client.post("/v1/auth/login", json=attempt)

    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "1"
    assert unlocked_then_failed.status_code == 401
    assert locked_longer.status_code == 429
    assert locked_longer.headers["retry-after"] == "2"


async def test_user_in_two_tenants_picks_one(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    mail_sink: tuple[MailSink, int],
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])
    owner = (await _login(identity_client)).json()
    tenant_id = owner["tenant_id"]
    # A second tenant invites the same user as a viewer.
    await identity_client.post(
        "/v1/auth/signup",
        json={"email": "bob@example.com", "password": PASSWORD, "tenant": "beta"},
    )
    await identity_client.post(
        "/v1/auth/verify-email", json={"token": _token_from(mail_sink[0], "bob@example.com")}
    )
    bob = (
        await identity_client.post(
            "/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD}
        )
    ).json()
    invited = await identity_client.post(
        f"/v1/tenants/{bob['tenant_id']}/invitations",
        json={"email": EMAIL, "role": "viewer"},
        headers={"Authorization": f"Bearer {bob['access_token']}"},
    )
    accepted = await identity_client.post(
        "/v1/invitations/accept", json={"token": _token_from(mail_sink[0], EMAIL)}
    )

    unnamed = await _login(identity_client)
    named = await _login(identity_client, tenant="beta")

    assert invited.status_code == 202
    assert accepted.status_code == 200
    assert unnamed.status_code == 409
    assert {t["slug"] for t in unnamed.json()["tenants"]} == {"acme", "beta"}
    principal = await identity_ctx.token_verifier.verify(named.json()["access_token"])
    assert principal.tenant_id == bob["tenant_id"]
    assert principal.tenant_id != tenant_id
    assert principal.roles == frozenset({"viewer"})


async def test_password_reset_link_dies_when_password_changes(
    identity_client: httpx.AsyncClient, mail_sink: tuple[MailSink, int]
) -> None:
    sink = mail_sink[0]
    await _sign_up_and_verify(identity_client, sink)
    await identity_client.post("/v1/auth/password-reset", json={"email": EMAIL})
    token = _token_from(sink, EMAIL)
    tokens = (await _login(identity_client)).json()
    new_password = "another long passphrase here"

    changed = await identity_client.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    reset = await identity_client.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": PASSWORD + "!"}
    )

    assert changed.status_code == 200
    assert reset.status_code == 400


async def _enrol_totp(
    client: httpx.AsyncClient, ctx: ServiceContext, access_token: str
) -> tuple[str, list[str]]:
    headers = {"Authorization": f"Bearer {access_token}"}
    enrolment = (await client.post("/v1/auth/totp/enrolment", headers=headers)).json()
    code = otp.totp(otp.decode_secret(enrolment["secret"]), ctx.clock.now())
    confirmed = await client.post("/v1/auth/totp/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
    assert enrolment["qr_svg"].startswith("<svg")
    assert enrolment["qr_png_data_uri"].startswith("data:image/png;base64,")
    return enrolment["secret"], confirmed.json()["recovery_codes"]


async def test_operator_login_needs_totp_and_rejects_replay(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext
) -> None:
    await create_operator(
        identity_ctx.pool,
        email=EMAIL,
        password=PASSWORD,
        role="admin",
        clock=identity_ctx.clock,
        schemas=identity_ctx.schemas,
    )
    first = (await _login(identity_client)).json()
    secret, recovery = await _enrol_totp(identity_client, identity_ctx, first["access_token"])
    assert isinstance(identity_ctx.clock, FrozenClock)
    identity_ctx.clock.advance(timedelta(seconds=30))
    code = otp.totp(otp.decode_secret(secret), identity_ctx.clock.now())

    without_code = await _login(identity_client)
    with_code = await _login(identity_client, totp_code=code)
    replayed = await _login(identity_client, totp_code=code)
    with_recovery = await _login(identity_client, totp_code=recovery[0])

    assert first["totp_enrolment_required"] is True
    assert first["roles"] == []
    assert without_code.status_code == 401
    assert without_code.json()["type"].endswith("totp-required")
    assert with_code.status_code == 200
    assert set(with_code.json()["roles"]) == {"admin"}
    assert replayed.status_code == 401
    assert replayed.json()["type"].endswith("totp-invalid")
    assert with_recovery.status_code == 200


async def test_enrolled_owner_login_needs_totp(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    mail_sink: tuple[MailSink, int],
) -> None:
    """A role that does not require TOTP still signs in with it once the user enrolled."""
    await _sign_up_and_verify(identity_client, mail_sink[0])
    first = (await _login(identity_client)).json()
    secret, _ = await _enrol_totp(identity_client, identity_ctx, first["access_token"])
    assert isinstance(identity_ctx.clock, FrozenClock)
    identity_ctx.clock.advance(timedelta(seconds=30))
    code = otp.totp(otp.decode_secret(secret), identity_ctx.clock.now())

    without_code = await _login(identity_client)
    wrong_code = await _login(identity_client, totp_code="000000" if code != "000000" else "111111")
    with_code = await _login(identity_client, totp_code=code)

    assert first["roles"] == ["owner"]
    assert without_code.status_code == 401
    assert without_code.json()["type"].endswith("totp-required")
    assert wrong_code.status_code == 401
    assert with_code.status_code == 200
    assert with_code.json()["roles"] == ["owner"]


async def test_step_up_token_is_bound_single_use_and_not_access(
    identity_client: httpx.AsyncClient, identity_ctx: ServiceContext
) -> None:
    await create_operator(
        identity_ctx.pool, email=EMAIL, password=PASSWORD, role="admin",
        clock=identity_ctx.clock, schemas=identity_ctx.schemas,
    )  # fmt: skip
    enrolling = (await _login(identity_client)).json()
    secret, _ = await _enrol_totp(identity_client, identity_ctx, enrolling["access_token"])
    assert isinstance(identity_ctx.clock, FrozenClock)
    identity_ctx.clock.advance(timedelta(seconds=30))
    key = otp.decode_secret(secret)
    admin = (
        await _login(identity_client, totp_code=otp.totp(key, identity_ctx.clock.now()))
    ).json()
    bearer = {"Authorization": f"Bearer {admin['access_token']}"}
    identity_ctx.clock.advance(timedelta(seconds=30))
    approval = await identity_client.post(
        "/v1/auth/step-up",
        json={"code": otp.totp(key, identity_ctx.clock.now()), "action": "key_rotation",
              "target": "signing-keys"},
        headers=bearer,
    )  # fmt: skip
    step_up = approval.json()["step_up_token"]

    missing = await identity_client.post("/v1/admin/identity/keys/rotate", headers=bearer)
    rotated = await identity_client.post(
        "/v1/admin/identity/keys/rotate", headers={**bearer, STEP_UP_HEADER: step_up}
    )
    reused = await identity_client.post(
        "/v1/admin/identity/keys/rotate", headers={**bearer, STEP_UP_HEADER: step_up}
    )

    assert approval.status_code == 200, approval.text
    assert missing.status_code == 401
    assert 'error="insufficient_user_authentication"' in missing.headers["www-authenticate"]
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["stage"] == "published"
    assert reused.status_code == 401
    assert "already used" in reused.json()["detail"]
    with pytest.raises(TokenInvalid):
        await identity_ctx.token_verifier.verify(step_up)
    as_step_up = await identity_client.post(
        "/v1/admin/identity/keys/rotate",
        headers={**bearer, STEP_UP_HEADER: admin["access_token"]},
    )
    assert as_step_up.status_code == 401


async def test_key_rotation_publishes_then_signs(
    identity_client: httpx.AsyncClient,
    identity_ctx: ServiceContext,
    mail_sink: tuple[MailSink, int],
) -> None:
    await _sign_up_and_verify(identity_client, mail_sink[0])
    old_token = (await _login(identity_client)).json()["access_token"]
    assert isinstance(identity_ctx.clock, FrozenClock)

    published = await rotate_keys(identity_ctx.pool, identity_ctx.clock)
    waiting = await rotate_keys(identity_ctx.pool, identity_ctx.clock)
    identity_ctx.clock.advance(timedelta(seconds=301))
    activated = await rotate_keys(identity_ctx.pool, identity_ctx.clock)
    new_token = (await _login(identity_client)).json()["access_token"]

    kids = [
        key["kid"] for key in (await load_jwks(identity_ctx.pool, clock=identity_ctx.clock))["keys"]
    ]
    assert published.stage == "published"
    assert waiting.stage == "waiting"
    assert activated.stage == "activated"
    assert activated.kid in kids
    assert len(kids) == 2
    assert (await identity_ctx.token_verifier.verify(old_token)).has_role("owner")
    assert (await identity_ctx.token_verifier.verify(new_token)).has_role("owner")
