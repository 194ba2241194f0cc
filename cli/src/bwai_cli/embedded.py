"""The whole platform in one process: embedded PostgreSQL, in-process bus, one HTTP port.

Used by `bwai dev` and by the end-to-end tests. With `database_admin_url` the databases live on
that server instead of the embedded one; with `amqp_url` the services share RabbitMQ instead of
the in-process bus (the same code paths, one process).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import structlog
from bwai_core.clock import Clock, SystemClock
from bwai_core.db import ensure_database
from bwai_messaging.bus import Bus
from bwai_messaging.memory_bus import InMemoryBus
from bwai_messaging.rabbit_bus import RabbitBus
from bwai_messaging.schemas import SchemaRegistry
from bwai_telemetry import configure_telemetry
from pydantic import SecretStr

from bwai_cli import registry
from bwai_cli.dispatch import PrefixDispatcher
from bwai_cli.host import ServiceHost
from bwai_cli.secrets import DevSecrets, load_or_create
from bwai_cli.servers import QuietSignalServer, make_server, wait_started

if TYPE_CHECKING:
    from bwai_sandbox.settings import SandboxSettings

log = structlog.get_logger()

# The sandbox's NOWPayments account login (its payment list API needs a JWT from POST /auth).
SANDBOX_MERCHANT_EMAIL = "merchant@sandbox.example.test"


@dataclass
class PlatformConfig:
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    sandbox_port: int = 8090
    # False: the sandbox runs elsewhere (its own process, `sandbox_settings()`) on sandbox_port,
    # so that the platform's process does not spend its time on the providers' side.
    sandbox_in_process: bool = True
    # The local mail sink: SMTP for the services, a web page and JSON for people and tests.
    mail_smtp_port: int = 8025
    mail_web_port: int = 8026
    # An existing PostgreSQL server to create the service databases on; None = embedded server.
    database_admin_url: str | None = None
    database_prefix: str = "bwai_"
    amqp_url: str | None = None
    amqp_exchange: str = "bwai.events"
    queue_prefix: str = ""
    services: tuple[str, ...] = tuple(registry.SERVICES)
    clock: Clock = field(default_factory=SystemClock)


@dataclass
class Platform:
    config: PlatformConfig
    hosts: list[ServiceHost] = field(default_factory=list)
    bus: Bus | None = None
    secrets: DevSecrets | None = None
    _servers: list[tuple[QuietSignalServer, asyncio.Task[None]]] = field(default_factory=list)
    _pg: Any = None
    _mailsink: Any = None

    @property
    def api_url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.config.host}:{self.config.sandbox_port}"

    @property
    def mail_url(self) -> str:
        return f"http://{self.config.host}:{self.config.mail_web_port}"

    async def start(self) -> None:
        """Start the database, the bus, the sandbox and every service, then listen."""
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        # Before any service starts: their HTTP clients and database calls get instrumented.
        configure_telemetry("bwai-platform")
        self.secrets = load_or_create(config.data_dir)
        admin_url = config.database_admin_url or await self._start_embedded_postgres()
        self.bus = self._make_bus()
        await self.bus.connect()
        if config.sandbox_in_process:
            await self._start_sandbox()
        await self._start_mailsink()

        schemas = SchemaRegistry.default()
        routes = []
        for name in config.services:
            definition = registry.get(name)
            database = config.database_prefix + name.replace("-", "_")
            await ensure_database(admin_url, database)
            settings = definition.settings_class(
                **self._settings_for(name, _with_database(admin_url, database))
            )
            host = ServiceHost(
                definition, settings, self.bus, config.clock, schemas, extras=self._extras_for(name)
            )
            app = await asyncio.create_task(host.start())
            self.hosts.append(host)
            prefixes = [*definition.public_prefixes, f"/v1/admin/{name}"]
            routes += [(prefix, app) for prefix in prefixes]

        dispatcher = PrefixDispatcher(routes, self.readiness)
        await self._serve(dispatcher, config.port)

    async def readiness(self) -> dict[str, Any]:
        services = {host.name: await host.readiness() for host in self.hosts}
        ready = bool(services) and all(all(checks.values()) for checks in services.values())
        return {"ready": ready, "services": services}

    async def wait_stopped(self) -> None:
        await asyncio.gather(*(task for _, task in self._servers), return_exceptions=True)

    async def stop(self) -> None:
        """Stop listening first, then the services in reverse order, then the bus."""
        for server, _ in self._servers:
            server.should_exit = True
        await self.wait_stopped()
        for host in reversed(self.hosts):
            await host.stop()
        if self.bus is not None:
            await self.bus.close()
        if self._mailsink is not None:
            await self._mailsink.stop()
        if self._pg is not None:
            await asyncio.to_thread(self._pg.cleanup)

    def _make_bus(self) -> Bus:
        if self.config.amqp_url:
            return RabbitBus(self.config.amqp_url, exchange=self.config.amqp_exchange, quorum=False)
        return InMemoryBus()

    async def _start_embedded_postgres(self) -> str:
        import pgserver  # imported here: only the embedded default needs the bundled server

        pg_dir = self.config.data_dir / "pg"
        self._pg = await asyncio.to_thread(pgserver.get_server, pg_dir, cleanup_mode="stop")
        uri: str = self._pg.get_uri()
        log.info("postgres.embedded.started", data_dir=str(pg_dir))
        return uri

    async def _start_sandbox(self) -> None:
        from bwai_sandbox.app import create_app

        await self._serve(create_app(self.sandbox_settings()), self.config.sandbox_port)

    def sandbox_settings(self) -> SandboxSettings:
        """Return the sandbox's settings: the platform's development secrets and its URLs."""
        from bwai_sandbox.settings import SandboxSettings

        if self.secrets is None:
            self.secrets = load_or_create(self.config.data_dir)
        return SandboxSettings(
            host=self.config.host,
            port=self.config.sandbox_port,
            public_url=self.sandbox_url,
            nowpayments_api_key=self.secrets.nowpayments_api_key,
            nowpayments_ipn_secret=self.secrets.nowpayments_ipn_secret,
            nowpayments_email=SANDBOX_MERCHANT_EMAIL,
            nowpayments_password=self.secrets.nowpayments_password,
            coinbase_api_key=self.secrets.coinbase_api_key,
            coinbase_webhook_secret=self.secrets.coinbase_webhook_secret,
            coinbase_webhook_url=f"{self.api_url}/v1/webhooks/coinbase-commerce",
            nowpayments_payout_totp_secret=self.secrets.nowpayments_payout_totp_secret,
        )

    async def _start_mailsink(self) -> None:
        from bwai_mailsink import MailSink, create_app

        self._mailsink = MailSink(self.config.host, self.config.mail_smtp_port)
        await self._mailsink.start()
        # Port 0 (tests) picks a free port; the services must send to the one bound.
        self.config.mail_smtp_port = self._mailsink.smtp_port
        await self._serve(create_app(self._mailsink), self.config.mail_web_port)

    async def _serve(self, app: Any, port: int) -> None:
        server = make_server(app, self.config.host, port)
        task = asyncio.create_task(server.serve())
        self._servers.append((server, task))
        await wait_started(server, task)

    def _extras_for(self, service: str) -> dict[str, Any]:
        """Point identity's mail at the local sink unless BWAI_SMTP_HOST names a real server."""
        if service != "identity" or "BWAI_SMTP_HOST" in os.environ:
            return {}
        from bwai_identity.mail.sender import MAILER_EXTRA
        from bwai_mail.smtp import SmtpSender, SmtpSettings

        smtp = SmtpSettings(
            host=self.config.host,
            port=self.config.mail_smtp_port,
            security="none",
            password=SecretStr(""),
            from_address="Build With AI <no-reply@localhost>",
        )
        return {MAILER_EXTRA: SmtpSender(smtp)}

    def _settings_for(self, service: str, database_url: str) -> dict[str, Any]:
        assert self.secrets is not None
        values: dict[str, Any] = {
            "environment": "development",
            "database_url": database_url,
            "amqp_url": self.config.amqp_url,
            "amqp_exchange": self.config.amqp_exchange,
            "http_host": self.config.host,
            "http_port": self.config.port,
            "identity_url": self.api_url,
            "amqp_queue_prefix": self.config.queue_prefix,
            "nowpayments_api_url": f"{self.sandbox_url}/nowpayments/v1",
            "nowpayments_api_key": self.secrets.nowpayments_api_key,
            "nowpayments_ipn_secret": self.secrets.nowpayments_ipn_secret,
            "coinbase_commerce_api_url": f"{self.sandbox_url}/coinbase",
            "coinbase_commerce_api_key": self.secrets.coinbase_api_key,
            "nowpayments_email": SANDBOX_MERCHANT_EMAIL,
            "nowpayments_password": self.secrets.nowpayments_password,
            "nowpayments_payout_totp_secret": self.secrets.nowpayments_payout_totp_secret,
            "coinbase_commerce_webhook_secret": self.secrets.coinbase_webhook_secret,
            "public_base_url": self.api_url,
        }
        # A variable the operator set explicitly wins over the embedded default.
        return {
            key: value for key, value in values.items() if f"BWAI_{key.upper()}" not in os.environ
        }


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
