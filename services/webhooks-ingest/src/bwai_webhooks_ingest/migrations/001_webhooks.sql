-- Every webhook delivery as it arrived, accepted or not, so that a rejected or disputed delivery
-- can be inspected and replayed later.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    provider text NOT NULL CHECK (provider IN ('nowpayments', 'coinbase_commerce')),
    received_at timestamptz NOT NULL,
    remote_addr text,
    -- A fixed subset of the request headers, signature header included for audit.
    headers jsonb NOT NULL,
    -- The exact bytes received; NULL only when the body was over the size limit.
    body bytea,
    body_size integer NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'rejected')),
    -- Stable reason code of a rejection (signature-invalid, payload-invalid, ...) and its detail.
    reason text,
    detail text,
    provider_event_id text,
    -- Which configured secret matched: 'current' or 'previous' during a rotation.
    secret_slot text CHECK (secret_slot IN ('current', 'previous')),
    CHECK ((outcome = 'rejected') = (reason IS NOT NULL))
);

CREATE INDEX webhook_deliveries_received_at_idx ON webhook_deliveries (received_at);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (provider, provider_event_id);

-- One row per distinct provider event. Inserted in the same transaction as the outbox row, so
-- two simultaneous deliveries of one event publish it once: the second insert waits for the
-- first transaction and then finds the row.
CREATE TABLE provider_events (
    provider text NOT NULL,
    provider_event_id text NOT NULL,
    first_delivery_id uuid NOT NULL,
    -- Id of the webhooks.provider_event.received event published for it.
    event_id uuid NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (provider, provider_event_id)
);
