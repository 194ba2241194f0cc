-- Orders, provider checkouts (payments), deposits, the ledger and provider events we keep.
-- Money is NUMERIC: crypto amounts NUMERIC(38,18); an order's fiat amount is stored exactly as
-- validated against the currency's minor unit (see bwai_payments.money).

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    amount numeric(38, 18) NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description text,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    success_url text,
    cancel_url text,
    status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'partially_paid', 'paid', 'overpaid', 'cancelled')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Listing is per tenant, newest first, paged by id (UUIDv7 ids sort by creation time).
CREATE INDEX orders_tenant_id_idx ON orders (tenant_id, id DESC);

-- One provider checkout per row: a NOWPayments invoice or a Coinbase Commerce charge.
CREATE TABLE payments (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    tenant_id text NOT NULL,
    provider text NOT NULL CHECK (provider IN ('nowpayments', 'coinbase_commerce')),
    provider_checkout_id text NOT NULL,
    -- The latest provider payment id seen (NOWPayments deposit payment_id, Coinbase charge id).
    provider_payment_id text,
    checkout_url text NOT NULL,
    pay_currency text,
    status text NOT NULL DEFAULT 'pending',
    -- Position of `status` in the settlement order, so a status never moves backwards.
    status_rank smallint NOT NULL DEFAULT 0,
    provider_status text,
    amount_due numeric(38, 18),
    actually_paid numeric(38, 18) NOT NULL DEFAULT 0,
    -- 'underpaid' | 'exact' | 'overpaid' once money arrived and the amount due is known.
    outcome text CHECK (outcome IN ('underpaid', 'exact', 'overpaid')),
    -- Money arrived after the checkout expired, failed or the order was cancelled.
    late boolean NOT NULL DEFAULT false,
    -- At most one active checkout per order: enforced by the partial unique index below.
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    expires_at timestamptz,
    UNIQUE (provider, provider_checkout_id)
);

CREATE UNIQUE INDEX payments_one_active_per_order_idx ON payments (order_id) WHERE is_active;
CREATE INDEX payments_order_idx ON payments (order_id, id);

-- One row per provider payment under a checkout. NOWPayments creates a payment_id for each
-- deposit to an invoice (a repeated deposit carries parent_payment_id); a Coinbase charge has one.
CREATE TABLE provider_deposits (
    provider text NOT NULL,
    provider_payment_id text NOT NULL,
    payment_id uuid NOT NULL REFERENCES payments (id),
    parent_payment_id text,
    provider_status text NOT NULL,
    -- Coinbase timeline context (UNDERPAID, OVERPAID, DELAYED, ...), null for NOWPayments.
    status_context text,
    status_rank smallint NOT NULL,
    -- Our status for this deposit (see bwai_payments.payments.state_machine).
    status text NOT NULL,
    pay_currency text,
    pay_amount numeric(38, 18),
    actually_paid numeric(38, 18) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (provider, provider_payment_id)
);

CREATE INDEX provider_deposits_payment_idx ON provider_deposits (payment_id);

-- The ledger. Each row is one balanced double-entry posting: `amount` moves from the credit
-- account to the debit account. Rows are only appended; balances are sums over them.
CREATE TABLE transactions (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    order_id uuid NOT NULL REFERENCES orders (id),
    payment_id uuid NOT NULL REFERENCES payments (id),
    kind text NOT NULL CHECK (kind IN ('payment_received')),
    debit_account text NOT NULL,
    credit_account text NOT NULL,
    amount numeric(38, 18) NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    -- The order's fiat value of `amount`, at the checkout's own rate (amount due vs order amount).
    fiat_amount numeric(38, 18),
    fiat_currency text NOT NULL,
    -- Total actually paid on the deposit after this posting.
    paid_total numeric(38, 18) NOT NULL,
    provider text NOT NULL,
    provider_payment_id text NOT NULL,
    provider_event_id text NOT NULL,
    -- provider:provider_payment_id:paid_total. A deposit reaches each total once, so a
    -- repeated or reordered event can never post the same money twice.
    posting_key text NOT NULL UNIQUE,
    occurred_at timestamptz,
    created_at timestamptz NOT NULL
);

CREATE INDEX transactions_order_idx ON transactions (order_id, id);

-- Verified provider events that belong to another integration on the same provider account.
CREATE TABLE foreign_provider_events (
    provider text NOT NULL,
    provider_event_id text NOT NULL,
    event_id uuid NOT NULL,
    reason text NOT NULL,
    data jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (provider, provider_event_id)
);

-- Events that carry our reference but whose payment we do not know yet. The bus retries them
-- with back-off; this table shows what is waiting and why until it is applied or dead-lettered.
CREATE TABLE parked_provider_events (
    event_id uuid PRIMARY KEY,
    provider text NOT NULL,
    provider_event_id text NOT NULL,
    reason text NOT NULL,
    attempts integer NOT NULL DEFAULT 1,
    data jsonb NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
