"""Parse an RFC 6749 client-credentials token request (form body, HTTP Basic or form secret)."""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request

from bwai_identity.errors import InvalidClient, OAuthError

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"


class ClientCredentials(NamedTuple):
    client_id: str
    client_secret: str


async def read_client_credentials(request: Request) -> ClientCredentials:
    """Validate the token request and return the client's credentials; raise OAuthError."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise _invalid_request(f"the token request must be {FORM_MEDIA_TYPE}")
    form = _parse_form(await request.body())

    grant_type = form.get("grant_type")
    if not grant_type:
        raise _invalid_request("grant_type is missing")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    return _credentials(request.headers.get("authorization"), form)


def _parse_form(body: bytes) -> dict[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise _invalid_request("the form body is not valid UTF-8") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        # RFC 6749 section 3.2: request parameters must not be included more than once.
        if name in form:
            raise _invalid_request(f"parameter {name} is repeated")
        form[name] = value
    return form


def _credentials(authorization: str | None, form: dict[str, str]) -> ClientCredentials:
    in_form = "client_id" in form or "client_secret" in form
    if authorization is not None and authorization.lower().startswith("basic "):
        if in_form:
            # RFC 6749 section 2.3: a client must not use more than one authentication method.
            raise _invalid_request("send client credentials in the header or the form, not both")
        return _basic_credentials(authorization[6:])
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not client_secret:
        raise InvalidClient("client authentication is missing")
    return ClientCredentials(client_id, client_secret)


def _basic_credentials(encoded: str) -> ClientCredentials:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient("the Basic authorization header is malformed") from exc
    client_id, separator, client_secret = decoded.partition(":")
    if not separator or not client_id or not client_secret:
        raise InvalidClient("the Basic authorization header is malformed")
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before Basic encoding.
    return ClientCredentials(unquote_plus(client_id), unquote_plus(client_secret))


def _invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)
