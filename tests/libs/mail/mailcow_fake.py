"""A fake Mailcow admin API on loopback, answering in Mailcow's response shapes.

It keeps domains, mailboxes and aliases in memory, checks `X-API-Key` (401 for a wrong key, 403
for the read-only key on a write), and answers business failures with HTTP 200 and `danger`
entries, as Mailcow does. `fail_next` injects HTTP errors for the next requests.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

RESPONSES = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "mailcow" / "responses.json").read_text()
)
API_KEY = "rw-key-0123456789"
READ_ONLY_KEY = "ro-key-0123456789"
MIB = 1024 * 1024
MIN_PASSWORD_LENGTH = 8


@dataclass
class FakeMailcow:
    url: str = ""
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    mailboxes: dict[str, dict[str, Any]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    aliases: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    warn_on_domain_add: bool = False
    next_alias_id: int = 1

    def writes(self, route: str) -> list[Any]:
        return [body for method, path, body in self.requests if path == f"/api/v1/{route}"]


def _entry(kind: str, action: str, obj: str, msg: Any, data: dict[str, Any]) -> dict[str, Any]:
    logged = {k: ("*" if k.startswith("password") else v) for k, v in data.items()}
    return {"type": kind, "log": ["mailbox", action, obj, logged], "msg": msg}


def create_fake_app(fake: FakeMailcow) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def check_key(request: Request, call_next: Any) -> Response:
        body = await request.body()
        fake.requests.append((request.method, request.url.path, json.loads(body) if body else None))
        if fake.fail_next:
            return JSONResponse({"type": "error", "msg": "busy"}, status_code=fake.fail_next.pop(0))
        key = request.headers.get("X-API-Key")
        if key not in (API_KEY, READ_ONLY_KEY):
            return JSONResponse(RESPONSES["authentication_failed"], status_code=401)
        if key == READ_ONLY_KEY and request.method != "GET":
            return JSONResponse({"type": "error", "msg": "access denied"}, status_code=403)
        response: Response = await call_next(request)
        return response

    @app.post("/api/v1/add/domain")
    async def add_domain(data: dict[str, Any]) -> list[dict[str, Any]]:
        name = data["domain"]
        if name in fake.domains:
            return [_entry("danger", "add", "domain", ["domain_exists", name], data)]
        fake.domains[name] = {
            "domain_name": name,
            "description": data.get("description", ""),
            "max_num_aliases_for_domain": int(data["aliases"]),
            "max_num_mboxes_for_domain": int(data["mailboxes"]),
            # Mailcow returns quotas in bytes and some numbers as strings.
            "def_quota_for_mbox": int(data["defquota"]) * MIB,
            "max_quota_for_mbox": str(int(data["maxquota"]) * MIB),
            "max_quota_for_domain": int(data["quota"]) * MIB,
            "active": int(data["active"]),
            "active_int": int(data["active"]),
        }
        answer = [_entry("success", "add", "domain", ["domain_added", name], data)]
        if fake.warn_on_domain_add:
            answer.append(_entry("warning", "add", "domain", "domain_added_sogo_failed", data))
        return answer

    @app.post("/api/v1/add/mailbox")
    async def add_mailbox(data: dict[str, Any]) -> list[dict[str, Any]]:
        address = f"{data['local_part']}@{data['domain']}"
        password = data.get("password", "")
        if data["domain"] not in fake.domains:
            return [_entry("danger", "add", "mailbox", ["domain_not_found", data["domain"]], data)]
        if address in fake.mailboxes:
            return [_entry("danger", "add", "mailbox", ["object_exists", address], data)]
        if password != data.get("password2"):
            return [_entry("danger", "add", "mailbox", "password_mismatch", data)]
        if password.startswith("echo"):
            # Some Mailcow messages carry the rejected value; the client must mask it.
            return [_entry("danger", "add", "mailbox", ["password_invalid", password], data)]
        if len(password) < MIN_PASSWORD_LENGTH:
            return [_entry("danger", "add", "mailbox", "password_complexity", data)]
        fake.passwords[address] = password
        fake.mailboxes[address] = {
            "username": address,
            "local_part": data["local_part"],
            "domain": data["domain"],
            "name": data.get("name", ""),
            "quota": int(data["quota"]) * MIB,
            "active": int(data["active"]),
            "active_int": int(data["active"]),
        }
        return [_entry("success", "add", "mailbox", ["mailbox_added", address], data)]

    @app.post("/api/v1/add/alias")
    async def add_alias(data: dict[str, Any]) -> list[dict[str, Any]]:
        address = data["address"]
        taken = address in fake.mailboxes or any(
            a["address"] == address for a in fake.aliases.values()
        )
        if taken:
            return [_entry("danger", "add", "alias", ["is_alias_or_mailbox", address], data)]
        alias_id = fake.next_alias_id
        fake.next_alias_id += 1
        active = int(data["active"])
        fake.aliases[alias_id] = {
            "id": alias_id,
            "address": address,
            "goto": data["goto"],
            "active": active,
            "active_int": active,
        }
        return [_entry("success", "add", "alias", ["alias_added", address], data)]

    @app.post("/api/v1/edit/{kind}")
    async def edit(kind: str, data: dict[str, Any]) -> Any:
        attributes = data.get("attr")
        if not attributes:
            return RESPONSES["missing_attributes"]
        answers = []
        for item in data["items"]:
            record = _record(fake, kind, item)
            if record is None:
                answers.append(_entry("danger", "edit", kind, "access_denied", data))
                continue
            _apply_edit(fake, kind, record, attributes)
            answers.append(_entry("success", "edit", kind, [f"{kind}_modified", item], data))
        return answers

    @app.post("/api/v1/delete/{kind}")
    async def delete(kind: str, request: Request) -> list[dict[str, Any]]:
        items = await request.json()
        tables: dict[str, dict[Any, Any]] = {
            "domain": fake.domains,
            "mailbox": fake.mailboxes,
            "alias": fake.aliases,
        }
        table = tables[kind]
        for item in items:
            table.pop(int(item) if kind == "alias" else item, None)
        return [_entry("success", "delete", kind, [f"{kind}_removed", str(i)], {}) for i in items]

    @app.get("/api/v1/get/domain/{name}")
    async def get_domain(name: str) -> Any:
        return fake.domains.get(name, {})

    @app.get("/api/v1/get/mailbox/all/{domain}")
    async def list_mailboxes(domain: str) -> Any:
        return [m for m in fake.mailboxes.values() if m["domain"] == domain]

    @app.get("/api/v1/get/mailbox/{address}")
    async def get_mailbox(address: str) -> Any:
        return fake.mailboxes.get(address, {})

    @app.get("/api/v1/get/alias/{alias_id}")
    async def get_alias(alias_id: str) -> Any:
        if alias_id == "all":
            return list(fake.aliases.values())
        return fake.aliases.get(int(alias_id), {})

    @app.get("/api/v1/get/dkim/{domain}")
    async def get_dkim(domain: str) -> Any:
        if domain not in fake.domains:
            return {}
        return {
            "pubkey": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
            "length": "2048",
            "dkim_txt": "v=DKIM1;k=rsa;t=s;s=email;p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
            "dkim_selector": "dkim",
            "privkey": "",
        }

    return app


def _record(fake: FakeMailcow, kind: str, item: Any) -> dict[str, Any] | None:
    if kind == "domain":
        return fake.domains.get(item)
    if kind == "mailbox":
        return fake.mailboxes.get(item)
    return fake.aliases.get(int(item))


DOMAIN_FIELDS = {
    "description": ("description", 1),
    "aliases": ("max_num_aliases_for_domain", 1),
    "mailboxes": ("max_num_mboxes_for_domain", 1),
    "defquota": ("def_quota_for_mbox", MIB),
    "maxquota": ("max_quota_for_mbox", MIB),
    "quota": ("max_quota_for_domain", MIB),
}


def _apply_edit(
    fake: FakeMailcow, kind: str, record: dict[str, Any], attributes: dict[str, Any]
) -> None:
    for name, value in attributes.items():
        if name == "active":
            record["active"] = record["active_int"] = int(value)
        elif kind == "domain" and name in DOMAIN_FIELDS:
            target, scale = DOMAIN_FIELDS[name]
            record[target] = value if scale == 1 and name == "description" else int(value) * scale
        elif kind == "mailbox" and name == "quota":
            record["quota"] = int(value) * MIB
        elif kind == "mailbox" and name == "password":
            fake.passwords[record["username"]] = value
        else:
            record[name] = value


@asynccontextmanager
async def serve_fake_mailcow() -> AsyncIterator[FakeMailcow]:
    """Serve a fresh fake on a free 127.0.0.1 port for the duration of the block."""
    fake = FakeMailcow()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(create_fake_app(fake), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(5):
            # uvicorn exposes only a `started` flag, no event to wait on.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        yield fake
    finally:
        server.should_exit = True
        await task
        sock.close()
