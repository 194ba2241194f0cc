-- Outgoing events, written in the same transaction as the state change they announce. The relay
-- deletes a row in the transaction that saw the broker's confirm, so the table is the backlog.
CREATE TABLE outbox (
    id uuid PRIMARY KEY,
    event_type text NOT NULL,
    -- The whole CloudEvent in structured JSON, exactly the bytes that go on the wire.
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Failed publishes (no queue bound, broker down) back off instead of blocking the batch.
    attempts integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL DEFAULT now(),
    last_error text
);

CREATE INDEX outbox_available_at_idx ON outbox (available_at, id);

-- Incoming events already applied, one row per consumer and event, inserted in the transaction
-- that applies the event, so a redelivery finds the row and changes nothing.
-- NOTE: nothing prunes this table yet; rows older than the longest redelivery window can go.
CREATE TABLE inbox (
    consumer text NOT NULL,
    -- Text rather than uuid: the envelope allows any non-empty id.
    event_id text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Events whose handler failed and that the bus will retry; a row disappears when the event is
-- finally applied. Written outside the failed transaction so that it survives the rollback.
CREATE TABLE inbox_failures (
    consumer text NOT NULL,
    event_id text NOT NULL,
    queue text NOT NULL,
    event_type text NOT NULL,
    attempts integer NOT NULL,
    last_error text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
