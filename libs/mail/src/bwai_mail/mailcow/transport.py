"""HTTP calls to the Mailcow admin API: the API key, bounded retries, and the 401/403 circuit."""

from __future__ import annotations

from typing import Any

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bwai_mail.errors import MailcowAuthFailed, MailcowError, MailcowUnavailable
from bwai_mail.secrets import SecretReader

log = structlog.get_logger()

MAX_RETRY_WAIT_S = 10.0


class MailcowTransport:
    """Send one request and return the parsed JSON body of a 200 response.

    After a 401 or 403 the transport opens its circuit: every later call raises
    `MailcowAuthFailed` without sending anything, because Mailcow's fail2ban bans the caller's
    address range after repeated failed authentications. An operator fixes the key, then calls
    `close_circuit()` (or restarts the process).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        api_key: SecretReader,
        *,
        max_attempts: int,
        retry_backoff_s: float,
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._auth_failure: str | None = None

    @property
    def circuit_open(self) -> bool:
        return self._auth_failure is not None

    def close_circuit(self) -> None:
        """Allow requests again after a 401 or 403, once the API key has been fixed."""
        self._auth_failure = None

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """Return the JSON body; raise a typed error for 401/403, other 4xx, or exhausted 5xx."""
        if self._auth_failure is not None:
            raise MailcowAuthFailed(
                f"Request not sent: Mailcow rejected the API key earlier ({self._auth_failure}); "
                "fix BWAI_MAILCOW_API_KEY or the key's allowed addresses, then close the circuit"
            )
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=self._retry_backoff_s, max=MAX_RETRY_WAIT_S),
            retry=retry_if_exception_type(MailcowUnavailable),
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send(method, path, body)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _send(self, method: str, path: str, body: Any) -> Any:
        # The key is read on every request, so a rotated key is used without a restart.
        headers = {"X-API-Key": self._api_key(), "Accept": "application/json"}
        try:
            response = await self._http.request(method, path, json=body, headers=headers)
        except httpx.TransportError as error:
            raise MailcowUnavailable(f"Mailcow {method} {path} failed: {error!r}") from error

        if response.status_code in (401, 403):
            self._open_circuit(method, path, response)
        if response.status_code >= 500:
            raise MailcowUnavailable(f"Mailcow {method} {path} returned {response.status_code}")
        if response.status_code != 200:
            raise MailcowError(
                f"Mailcow {method} {path} returned {response.status_code}: {response.text:.200}"
            )
        try:
            return response.json()
        except ValueError as error:
            raise MailcowError(
                f"Mailcow {method} {path} returned a body that is not JSON"
            ) from error

    def _open_circuit(self, method: str, path: str, response: httpx.Response) -> None:
        reason = f"{response.status_code} {_message(response)}"
        self._auth_failure = reason
        # Error level: a person must fix the key or its address allow-list.
        log.error("mailcow.auth.rejected", method=method, path=path, reason=reason)
        raise MailcowAuthFailed(f"Mailcow rejected the API key for {method} {path}: {reason}")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    return str(body.get("msg", "")) if isinstance(body, dict) else response.reason_phrase


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "mailcow.request.retrying",
        attempt=state.attempt_number,
        detail=getattr(error, "detail", None),
    )
