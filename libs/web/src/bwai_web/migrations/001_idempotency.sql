-- Idempotency keys for mutating endpoints: one row per (scope, key), where scope is usually the
-- tenant id. A row is 'in_flight' while its first request runs (locked_until bounds how long a
-- crashed holder blocks the key) and 'completed' once the response is stored for replay.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    state text NOT NULL CHECK (state IN ('in_flight', 'completed')),
    response_status integer,
    response_body bytea,
    response_headers jsonb,
    locked_until timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CHECK (state = 'in_flight' OR response_status IS NOT NULL)
);

-- Expired keys are purged in batches by expiry time.
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
