"""One typed settings object per service, read from BWAI_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from bwai_core.secrets.config import SecretsSettings

Environment = Literal["development", "test", "production"]

# Values that mark a secret as not really set; rejected outside development and test.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder", "dev"})


class ServiceSettings(SecretsSettings):
    """Settings every service shares; a service subclasses it and adds its own fields.

    The secret store fields (BWAI_SECRETS_*, BWAI_VAULT_*) come from SecretsSettings.
    """

    model_config = SettingsConfigDict(env_prefix="BWAI_", extra="ignore", frozen=True)

    environment: Environment = "development"
    log_level: str = "INFO"
    log_json: bool = True
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_pool_min: int = Field(default=2, ge=1)
    database_pool_max: int = Field(default=10, ge=1)
    # None means the in-process bus, which only works when every service shares one process.
    amqp_url: str | None = None
    amqp_exchange: str = "bwai.events"
    # Prepended to every queue name, so several platforms can share one broker (tests do).
    amqp_queue_prefix: str = ""
    # Quorum queues in production; classic queues are lighter for development brokers.
    amqp_quorum_queues: bool = True
    # Where other services find identity's JWKS (distributed mode).
    identity_url: str = "http://127.0.0.1:8000"
    jwt_issuer: str = "bwai-identity"
    jwt_audience: str = "bwai"
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @model_validator(mode="after")
    def _pool_bounds(self) -> ServiceSettings:
        if self.database_pool_min > self.database_pool_max:
            raise ValueError("database_pool_min must not exceed database_pool_max")
        return self

    def require_secret(self, name: str, value: str | None) -> str:
        """Return a secret's value, or raise when it is unset or a placeholder in production."""
        if value is None or (self.environment == "production" and value in PLACEHOLDER_SECRETS):
            raise ValueError(f"BWAI_{name.upper()} is not set to a real secret")
        return value
