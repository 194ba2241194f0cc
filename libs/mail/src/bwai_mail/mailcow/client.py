"""A typed async client for the Mailcow admin API (`/api/v1`): domains, mailboxes, aliases, DKIM."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from bwai_mail.mailcow.models import (
    Alias,
    AliasSpec,
    DkimKey,
    Domain,
    DomainSpec,
    Mailbox,
    MailboxSpec,
    MailcowResult,
)
from bwai_mail.mailcow.records import alias_from, dkim_from, domain_from, mailbox_from
from bwai_mail.mailcow.responses import parse_write, read_failure
from bwai_mail.mailcow.settings import MailcowSettings
from bwai_mail.mailcow.transport import MailcowTransport
from bwai_mail.secrets import SecretReader, static_secret

log = structlog.get_logger()

# Request fields whose values are masked in errors and never logged.
SECRET_FIELDS = ("password", "password2")


class MailcowClient:
    """Mailcow's admin API, one method per route; writes raise typed errors on `danger` entries.

    `add_*` raise `MailcowObjectExists` when the object exists; the `ensure_*` functions in
    `bwai_mail.mailcow.provisioning` build converging provisioning on top of them.
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretReader,
        *,
        http: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.5,
    ) -> None:
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout_s)
        self._api = base_url.rstrip("/") + "/api/v1"
        self._transport = MailcowTransport(
            self._http, api_key, max_attempts=max_attempts, retry_backoff_s=retry_backoff_s
        )

    @classmethod
    def from_settings(
        cls,
        settings: MailcowSettings,
        *,
        api_key: SecretReader | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> MailcowClient:
        return cls(
            settings.base_url,
            api_key or static_secret(settings.api_key),
            http=http,
            timeout_s=settings.timeout_s,
            max_attempts=settings.max_attempts,
            retry_backoff_s=settings.retry_backoff_s,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> MailcowClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def auth_circuit_open(self) -> bool:
        """True after a 401 or 403: requests are refused locally until `close_auth_circuit()`."""
        return self._transport.circuit_open

    def close_auth_circuit(self) -> None:
        self._transport.close_circuit()

    # Domains

    async def add_domain(self, spec: DomainSpec) -> MailcowResult:
        """Add a domain; Mailcow also creates its DKIM key."""
        body: dict[str, Any] = {
            "domain": spec.domain,
            **domain_attributes(spec),
            "restart_sogo": 1,
        }
        if spec.rate_limit is not None:
            body["rl_value"] = spec.rate_limit
            body["rl_frame"] = spec.rate_limit_frame
        return await self._write("add/domain", body)

    async def get_domain(self, domain: str) -> Domain | None:
        raw = await self._read(f"get/domain/{_segment(domain)}")
        return domain_from(raw) if raw else None

    async def edit_domain(self, domain: str, attributes: Mapping[str, Any]) -> MailcowResult:
        return await self._write("edit/domain", {"items": [domain], "attr": dict(attributes)})

    async def delete_domain(self, domain: str) -> MailcowResult:
        return await self._write("delete/domain", [domain])

    # Mailboxes

    async def add_mailbox(self, spec: MailboxSpec) -> MailcowResult:
        password = spec.password.get_secret_value()
        body = {
            "local_part": spec.local_part,
            "domain": spec.domain,
            "password": password,
            "password2": password,
            "force_pw_update": int(spec.force_password_update),
            **mailbox_attributes(spec),
        }
        return await self._write("add/mailbox", body)

    async def get_mailbox(self, address: str) -> Mailbox | None:
        raw = await self._read(f"get/mailbox/{_segment(address)}")
        return mailbox_from(raw) if raw else None

    async def list_mailboxes(self, domain: str) -> list[Mailbox]:
        raw = await self._read(f"get/mailbox/all/{_segment(domain)}")
        return [mailbox_from(item) for item in _as_list(raw)]

    async def edit_mailbox(self, address: str, attributes: Mapping[str, Any]) -> MailcowResult:
        return await self._write("edit/mailbox", {"items": [address], "attr": dict(attributes)})

    async def delete_mailbox(self, address: str) -> MailcowResult:
        return await self._write("delete/mailbox", [address])

    # Aliases (Mailcow addresses an alias by its numeric id for edit and delete)

    async def add_alias(self, spec: AliasSpec) -> MailcowResult:
        return await self._write("add/alias", {"address": spec.address, **alias_attributes(spec)})

    async def get_alias(self, alias_id: int) -> Alias | None:
        raw = await self._read(f"get/alias/{int(alias_id)}")
        return alias_from(raw) if raw else None

    async def find_alias(self, address: str) -> Alias | None:
        """Return the alias with this address, or None; Mailcow has no lookup by address."""
        raw = await self._read("get/alias/all")
        wanted = address.lower()
        found = next(
            (a for a in _as_list(raw) if str(a.get("address", "")).lower() == wanted), None
        )
        return alias_from(found) if found else None

    async def edit_alias(self, alias_id: int, attributes: Mapping[str, Any]) -> MailcowResult:
        return await self._write("edit/alias", {"items": [alias_id], "attr": dict(attributes)})

    async def delete_alias(self, alias_id: int) -> MailcowResult:
        return await self._write("delete/alias", [alias_id])

    # DKIM

    async def get_dkim(self, domain: str) -> DkimKey | None:
        raw = await self._read(f"get/dkim/{_segment(domain)}")
        return dkim_from(raw) if isinstance(raw, dict) and raw.get("dkim_txt") else None

    async def _write(self, route: str, body: Any) -> MailcowResult:
        secrets = _secret_values(body)
        response = await self._transport.request("POST", f"{self._api}/{route}", body)
        result = parse_write(response, secrets=secrets)
        for warning in result.warnings:
            log.warning("mailcow.write.warning", route=route, msg=list(warning))
        log.info("mailcow.write.succeeded", route=route, msg=[list(m) for m in result.messages])
        return result

    async def _read(self, route: str) -> Any:
        response = await self._transport.request("GET", f"{self._api}/{route}")
        failure = read_failure(response)
        if failure is not None:
            raise failure
        return response


def domain_attributes(spec: DomainSpec) -> dict[str, Any]:
    """Return the domain's editable attributes in Mailcow's write names and units (MiB)."""
    return {
        "description": spec.description,
        "aliases": spec.max_aliases,
        "mailboxes": spec.max_mailboxes,
        "defquota": spec.default_mailbox_quota_mib,
        "maxquota": spec.max_mailbox_quota_mib,
        "quota": spec.domain_quota_mib,
        "active": int(spec.active),
    }


def mailbox_attributes(spec: MailboxSpec) -> dict[str, Any]:
    """Return the mailbox's editable attributes; the password is left out on purpose."""
    return {"name": spec.name, "quota": spec.quota_mib, "active": int(spec.active)}


def alias_attributes(spec: AliasSpec) -> dict[str, Any]:
    return {"goto": ",".join(sorted(spec.goto)), "active": int(spec.active)}


def _segment(value: str) -> str:
    if not value or "/" in value:
        raise ValueError(f"Invalid Mailcow object name {value!r}: expected a domain or address")
    return quote(value, safe="@")


def _as_list(raw: Any) -> list[dict[str, Any]]:
    # Accept a single object too, so a list read never fails on the shape of a one-item response.
    if isinstance(raw, dict):
        return [raw] if raw else []
    return [item for item in raw or [] if isinstance(item, dict)]


def _secret_values(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    sources = [body, body.get("attr") or {}]
    return [str(s[f]) for s in sources if isinstance(s, dict) for f in SECRET_FIELDS if s.get(f)]
