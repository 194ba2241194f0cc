-- Daily reconciliation: provider settlement records compared with our deposits and ledger.
-- docs/payments/reconciliation.md describes the runs, the outcomes and the CSV import format.

-- What the provider reported in its webhooks beyond what the state machine keeps: the time of
-- the provider's last status change (which UTC day a payment belongs to) and the settled amount.
-- Written in the same transaction as each provider event is applied.
CREATE TABLE reconciliation_provider_states (
    provider text NOT NULL,
    provider_payment_id text NOT NULL,
    status_changed_at timestamptz NOT NULL,
    outcome_amount numeric(38, 18),
    outcome_currency text,
    provider_event_id text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (provider, provider_payment_id)
);

CREATE INDEX reconciliation_provider_states_day_idx
    ON reconciliation_provider_states (provider, status_changed_at);

-- The ledger summed per provider payment, for the few payments of one day.
CREATE INDEX transactions_provider_payment_idx ON transactions (provider, provider_payment_id);

-- Deposits without a webhook state fall into the day by their last update.
CREATE INDEX provider_deposits_updated_idx ON provider_deposits (provider, updated_at);

-- Decimal places each currency is compared at. Codes are lower case; a currency missing here
-- is compared at 18 places, the scale of the amount columns.
CREATE TABLE reconciliation_currency_precision (
    currency text PRIMARY KEY CHECK (currency = lower(currency)),
    places smallint NOT NULL CHECK (places BETWEEN 0 AND 18)
);

INSERT INTO reconciliation_currency_precision (currency, places) VALUES
    ('btc', 8), ('ltc', 8), ('bch', 8), ('doge', 8), ('dash', 8),
    ('eth', 18), ('usdterc20', 6), ('usdttrc20', 6), ('usdtbsc', 18), ('usdt', 6),
    ('usdc', 6), ('usdcbase', 6), ('trx', 6), ('xrp', 6), ('sol', 9), ('dai', 18),
    ('usd', 2), ('eur', 2), ('gbp', 2), ('chf', 2), ('cad', 2), ('aud', 2), ('jpy', 0);

-- One run per (provider, UTC day) and version. A rerun adds a version; the records of earlier
-- versions are kept, and the latest completed version is the day's current result.
CREATE TABLE reconciliation_runs (
    id uuid PRIMARY KEY,
    -- The run's records have ids ordinal * 2^32 + 1, + 2, ...: each run owns a range of
    -- reconciliation_records' primary key, so no per-record sequence or second index is needed.
    ordinal bigint GENERATED ALWAYS AS IDENTITY,
    provider text NOT NULL CHECK (provider IN ('nowpayments', 'coinbase_commerce')),
    day date NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    -- api: the provider's list API; csv: an uploaded export.
    source text NOT NULL CHECK (source IN ('api', 'csv')),
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'operator', 'cli', 'import')),
    requested_by text,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    -- Provider records fetched or parsed so far, then compared records once matching ends.
    progress bigint NOT NULL DEFAULT 0,
    provider_records bigint NOT NULL DEFAULT 0,
    -- Provider records that carry no reference of ours (another integration on the account).
    foreign_records bigint NOT NULL DEFAULT 0,
    total bigint NOT NULL DEFAULT 0,
    matched bigint NOT NULL DEFAULT 0,
    missing_internally bigint NOT NULL DEFAULT 0,
    missing_at_provider bigint NOT NULL DEFAULT 0,
    amount_mismatch bigint NOT NULL DEFAULT 0,
    currency_mismatch bigint NOT NULL DEFAULT 0,
    status_mismatch bigint NOT NULL DEFAULT 0,
    -- Non-matched records divided by all compared records; 0 when nothing was compared.
    mismatch_rate numeric(20, 18) NOT NULL DEFAULT 0,
    error text,
    started_at timestamptz NOT NULL,
    completed_at timestamptz,
    UNIQUE (provider, day, version)
);

CREATE INDEX reconciliation_runs_day_idx ON reconciliation_runs (day DESC, provider, version DESC);

-- One row per compared provider payment: both sides' values and the outcome.
CREATE TABLE reconciliation_records (
    -- The run's ordinal * 2^32 + the record's number in the run (from 1), set by the matching
    -- step. A run's records are one range of this key, which serves the per-run pages.
    id bigint PRIMARY KEY,
    -- No foreign key: a per-row check costs seconds on a million-record run. Records are
    -- written only by the matching step, for a run row that was committed before it.
    run_id uuid NOT NULL,
    provider_payment_id text NOT NULL,
    payment_id uuid,
    outcome text NOT NULL CHECK (outcome IN ('matched', 'missing_internally',
        'missing_at_provider', 'amount_mismatch', 'currency_mismatch', 'status_mismatch')),
    -- Every field that differs; `outcome` names the most important one.
    differences text[] NOT NULL DEFAULT '{}',
    provider_status text,
    internal_status text,
    provider_pay_currency text,
    internal_pay_currency text,
    provider_actually_paid numeric(38, 18),
    internal_actually_paid numeric(38, 18),
    provider_outcome_amount numeric(38, 18),
    internal_outcome_amount numeric(38, 18),
    provider_outcome_currency text,
    internal_outcome_currency text,
    provider_changed_at timestamptz,
    internal_changed_at timestamptz,
    resolved_at timestamptz,
    resolved_by text,
    resolution_note text,
    CHECK ((resolved_at IS NULL) = (resolved_by IS NULL))
);

-- Resolutions carried over to the next version of a run.
CREATE INDEX reconciliation_records_resolved_idx
    ON reconciliation_records (run_id) WHERE resolved_at IS NOT NULL;

-- The scheduler's claim on a (provider, day): the replica that inserts the row runs the day.
CREATE TABLE reconciliation_schedule (
    provider text NOT NULL,
    day date NOT NULL,
    claimed_by text NOT NULL,
    claimed_at timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (provider, day)
);

-- Mismatch-rate alerts. At most one is open; it clears when the rate falls back to the
-- threshold, so each breach raises exactly one alert.
CREATE TABLE reconciliation_alerts (
    id uuid PRIMARY KEY,
    mismatch_rate numeric(20, 18) NOT NULL,
    threshold numeric(20, 18) NOT NULL,
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    raised_at timestamptz NOT NULL,
    cleared_at timestamptz
);

CREATE UNIQUE INDEX reconciliation_alerts_one_open_idx
    ON reconciliation_alerts ((true)) WHERE cleared_at IS NULL;
