-- Tenants, the API clients that act for them, and the keys that sign access tokens.

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_clients (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    role text NOT NULL CHECK (role IN ('tenant', 'operator')),
    -- argon2id PHC string; the secret itself is shown once at creation and never stored.
    secret_hash text NOT NULL,
    name text,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX api_clients_tenant_id ON api_clients (tenant_id);

CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    algorithm text NOT NULL CHECK (algorithm IN ('EdDSA')),
    -- NOTE: the private key is stored unencrypted (PKCS#8 PEM); encryption at rest with a key
    -- from the secrets store is still to be added.
    private_key_pem text NOT NULL,
    public_jwk jsonb NOT NULL,
    state text NOT NULL CHECK (state IN ('active', 'retired')),
    created_at timestamptz NOT NULL,
    retired_at timestamptz,
    CHECK ((state = 'retired') = (retired_at IS NOT NULL))
);

-- At most one active key, so replicas starting together cannot each create one.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
