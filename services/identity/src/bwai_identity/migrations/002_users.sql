-- Users, their tenant memberships, sign-in sessions, one-time email tokens, TOTP, throttling,
-- invitations, and staged signing key rotation.

CREATE TABLE users (
    id uuid PRIMARY KEY,
    -- Stored lower-cased, so one address cannot register twice with different capitals.
    email text NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash text NOT NULL,
    -- Platform staff only; tenant roles live in memberships.
    platform_role text CHECK (platform_role IN ('operator', 'admin')),
    email_verified_at timestamptz,
    password_changed_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    disabled_at timestamptz
);

CREATE TABLE memberships (
    user_id uuid NOT NULL REFERENCES users (id),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    role text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, tenant_id)
);

CREATE INDEX memberships_tenant_id ON memberships (tenant_id);

-- A session is one sign-in; its refresh tokens form one rotation family.
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    tenant_id uuid REFERENCES tenants (id),
    amr text[] NOT NULL,
    auth_time timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text
);

CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE refresh_tokens (
    -- SHA-256 of the token; the token itself is only ever in the client's hands.
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id),
    created_at timestamptz NOT NULL,
    -- Set when the token is exchanged; presenting it again means it leaked.
    used_at timestamptz
);

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- Single-use tokens sent by email; `purpose` keeps the kinds apart.
CREATE TABLE email_tokens (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

CREATE INDEX email_tokens_user_id ON email_tokens (user_id, purpose);

CREATE TABLE totp_credentials (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    -- Base32 shared secret. NOTE: stored unencrypted, like the signing keys.
    secret text NOT NULL,
    created_at timestamptz NOT NULL,
    -- NULL until the user proves the authenticator works with a first code.
    confirmed_at timestamptz,
    -- The time step of the last accepted code; a code for this step or an earlier one is
    -- rejected (RFC 6238 section 5.2).
    last_used_step bigint
);

CREATE TABLE recovery_codes (
    code_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    used_at timestamptz
);

CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

-- Failed attempts per key ("account:<sha256 of email>", "address:<ip>", "totp:<user id>",
-- "resend:<sha256 of email>"); keys exist for unknown accounts too.
CREATE TABLE auth_throttle (
    key text PRIMARY KEY,
    failures integer NOT NULL,
    last_failure_at timestamptz NOT NULL,
    locked_until timestamptz
);

CREATE TABLE invitations (
    token_hash bytea PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    email text NOT NULL CHECK (email = lower(email)),
    role text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    invited_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz
);

-- Staged rotation: a `pending` key is published in the JWKS before it signs anything, so every
-- verifier knows it by the time it becomes `active`.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_state_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_state_check
    CHECK (state IN ('pending', 'active', 'retired'));
CREATE UNIQUE INDEX signing_keys_one_pending ON signing_keys (state) WHERE state = 'pending';

ALTER TABLE api_clients ADD COLUMN revoked_by text;
