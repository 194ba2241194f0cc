"""Steps of a person's account life as the API and the mail sink offer them.

Sign-up, reading the verification email from the mail sink's JSON API, verifying, signing in,
and enrolling TOTP with pyotp as an authenticator app would.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

# A password that passes the policy (at least 12 characters, not derived from the address).
PASSWORD = "correct horse battery staple 42"
# Upper bound on waiting for identity to hand a message to the mail sink.
MAIL_TIMEOUT_S = 15.0
TOTP_STEP_S = 30


@dataclass
class Account:
    """A signed-in user: credentials, current tokens and, once enrolled, the TOTP factor."""

    email: str
    password: str = PASSWORD
    access_token: str = ""
    refresh_token: str = ""
    totp: pyotp.TOTP | None = None
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def wait_for_mail(
    http: httpx.AsyncClient, mail_url: str, to: str, subject: str
) -> dict[str, Any]:
    """Return the newest message to `to` whose subject contains `subject`, polling the sink."""
    deadline = time.monotonic() + MAIL_TIMEOUT_S
    while True:
        response = await http.get(f"{mail_url}/messages", params={"to": to})
        assert response.status_code == 200, response.text
        for message in response.json():
            if subject in message["subject"]:
                found: dict[str, Any] = message
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} with {subject!r} after {MAIL_TIMEOUT_S} s")
        await asyncio.sleep(0.1)


def link_in(message: dict[str, Any]) -> str:
    """Return the first http(s) link of the message's plain-text body."""
    match = re.search(r"https?://\S+", message["text"] or "")
    assert match is not None, f"no link in the mail body: {message['text']!r}"
    return match.group(0)


def token_of(link: str) -> str:
    """Return the `token` query parameter of an emailed link."""
    return parse_qs(urlsplit(link).query)["token"][0]


async def sign_up(
    http: httpx.AsyncClient, api_url: str, email: str, tenant: str, password: str = PASSWORD
) -> httpx.Response:
    return await http.post(
        f"{api_url}/v1/auth/signup",
        json={"email": email, "password": password, "tenant": tenant},
    )


async def verify_from_mail(http: httpx.AsyncClient, api_url: str, mail_url: str, email: str) -> str:
    """Read the verification email, open its link on `api_url`, and return the link."""
    message = await wait_for_mail(http, mail_url, email, "Verify your email")
    link = link_in(message)
    response = await http.get(f"{api_url}/v1/auth/verify-email", params={"token": token_of(link)})
    assert response.status_code == 200, response.text
    return link


async def login(
    http: httpx.AsyncClient,
    api_url: str,
    account: Account,
    *,
    totp_code: str | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Sign in and store the new tokens on `account`; return the token response."""
    body: dict[str, Any] = {"email": account.email, "password": account.password}
    if totp_code is not None:
        body["totp_code"] = totp_code
    if tenant is not None:
        body["tenant"] = tenant
    response = await http.post(f"{api_url}/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    account.access_token = tokens["access_token"]
    account.refresh_token = tokens["refresh_token"]
    return tokens


async def enrol_totp(http: httpx.AsyncClient, api_url: str, account: Account) -> None:
    """Enrol TOTP with the account's current token and keep the factor on `account`.

    Confirms with the previous time step's code, which the server's one-step drift accepts, so
    the current code stays unused for the next sign-in (a used step never verifies again).
    """
    response = await http.post(f"{api_url}/v1/auth/totp/enrolment", headers=account.auth)
    assert response.status_code == 200, response.text
    enrolment = response.json()
    totp = pyotp.TOTP(enrolment["secret"])
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/")

    code = totp.at(time.time() - TOTP_STEP_S)
    response = await http.post(
        f"{api_url}/v1/auth/totp/confirm", headers=account.auth, json={"code": code}
    )
    assert response.status_code == 200, response.text
    account.totp = totp
    account.recovery_codes = list(response.json()["recovery_codes"])


async def login_with_totp(
    http: httpx.AsyncClient, api_url: str, account: Account, tenant: str | None = None
) -> dict[str, Any]:
    assert account.totp is not None, "enrol TOTP first"
    return await login(http, api_url, account, totp_code=account.totp.now(), tenant=tenant)


async def step_up(
    http: httpx.AsyncClient, api_url: str, account: Account, action: str, target: str
) -> str:
    """Approve one action with a recovery code (TOTP steps may be spent) and return the token."""
    response = await http.post(
        f"{api_url}/v1/auth/step-up",
        headers=account.auth,
        json={"code": account.recovery_codes.pop(), "action": action, "target": target},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["step_up_token"]
    return token
