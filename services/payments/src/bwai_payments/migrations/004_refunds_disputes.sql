-- Refunds and disputes. A refund sends money back in the currency the customer paid in: a
-- NOWPayments payout, or a refund an operator makes in the Coinbase Commerce dashboard.

CREATE TABLE refunds (
    id uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES payments (id),
    order_id uuid NOT NULL REFERENCES orders (id),
    tenant_id text NOT NULL,
    provider text NOT NULL CHECK (provider IN ('nowpayments', 'coinbase_commerce')),
    -- payout: sent through the provider's payout API; manual: made by a person at the provider.
    method text NOT NULL CHECK (method IN ('payout', 'manual')),
    amount numeric(38, 18) NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    reason text NOT NULL,
    refund_address text NOT NULL,
    -- requested -> submitted -> completed | failed; the rank never decreases (trigger below).
    status text NOT NULL DEFAULT 'requested'
        CHECK (status IN ('requested', 'submitted', 'completed', 'failed')),
    status_rank smallint NOT NULL DEFAULT 0,
    -- The payment was partially paid when the refund was requested; `provider_note` says what
    -- the provider's rules are for such payments.
    partially_paid boolean NOT NULL DEFAULT false,
    provider_note text,
    -- NOWPayments batch_withdrawal_id and withdrawal id; the reference an operator copied from
    -- the Coinbase Commerce dashboard.
    provider_reference text,
    provider_payout_id text,
    provider_status text,
    -- The payout waits for its 2FA code (POST /v1/refunds/{id}/verify).
    awaiting_verification boolean NOT NULL DEFAULT false,
    -- Why the refund failed, or the last error of a submission that may be retried.
    failure_reason text,
    last_error text,
    requested_by text NOT NULL,
    idempotency_key text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    submitted_at timestamptz,
    finished_at timestamptz,
    -- A repeated request with the same key finds this row instead of adding a refund.
    UNIQUE (payment_id, idempotency_key),
    UNIQUE (provider, provider_payout_id)
);

CREATE INDEX refunds_payment_idx ON refunds (payment_id, id);

-- What can still be refunded per payment. The CHECK is the guarantee that refunds never exceed
-- what was paid: every refund row passes through this row (trigger below), and concurrent
-- refunds of one payment queue on its row lock, not on a table lock.
CREATE TABLE refund_allowances (
    payment_id uuid PRIMARY KEY REFERENCES payments (id),
    paid numeric(38, 18) NOT NULL CHECK (paid >= 0),
    -- Sum of the payment's refunds that have not failed.
    refunded numeric(38, 18) NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    CONSTRAINT refund_allowances_within_paid CHECK (refunded <= paid)
);

-- Reserve a new refund's amount against what the payment actually received. The amount paid
-- only grows (late deposits add to it), so the larger of the stored and current value is kept.
-- AFTER INSERT, because a BEFORE trigger would also run for a row that ON CONFLICT then skips.
CREATE FUNCTION refunds_reserve_allowance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO refund_allowances (payment_id, paid, refunded)
    SELECT NEW.payment_id, p.actually_paid, NEW.amount FROM payments p WHERE p.id = NEW.payment_id
    ON CONFLICT (payment_id) DO UPDATE
        SET paid = GREATEST(refund_allowances.paid, EXCLUDED.paid),
            refunded = refund_allowances.refunded + EXCLUDED.refunded;
    RETURN NULL;
END;
$$;

CREATE TRIGGER refunds_reserve_allowance
    AFTER INSERT ON refunds
    FOR EACH ROW EXECUTE FUNCTION refunds_reserve_allowance();

-- Keep status changes monotonic and the money fields fixed; a failed refund gives its amount
-- back to the allowance.
CREATE FUNCTION refunds_check_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.amount <> OLD.amount OR NEW.payment_id <> OLD.payment_id
        OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'refund % amount, currency and payment cannot change', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status_rank < OLD.status_rank
        OR (OLD.status IN ('completed', 'failed') AND NEW.status <> OLD.status) THEN
        RAISE EXCEPTION 'refund % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = 'failed' AND OLD.status <> 'failed' THEN
        UPDATE refund_allowances SET refunded = refunded - OLD.amount
        WHERE payment_id = OLD.payment_id;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER refunds_check_update
    BEFORE UPDATE ON refunds
    FOR EACH ROW EXECUTE FUNCTION refunds_check_update();

-- Refunds reach the ledger as 'refund_sent' postings once the money has left.
ALTER TABLE transactions DROP CONSTRAINT transactions_kind_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_kind_check
    CHECK (kind IN ('payment_received', 'refund_sent'));

CREATE TABLE disputes (
    id uuid PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES payments (id),
    order_id uuid NOT NULL REFERENCES orders (id),
    tenant_id text NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    reason text NOT NULL,
    -- How it ended: in the merchant's favour, the customer's, or withdrawn by the customer.
    outcome text CHECK (outcome IN ('merchant_won', 'customer_won', 'withdrawn')),
    resolution_note text,
    opened_by text NOT NULL,
    resolved_by text,
    opened_at timestamptz NOT NULL,
    resolved_at timestamptz,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK ((status = 'resolved') = (outcome IS NOT NULL))
);

CREATE INDEX disputes_payment_idx ON disputes (payment_id, id);
-- One open dispute per payment at a time.
CREATE UNIQUE INDEX disputes_one_open_idx ON disputes (payment_id) WHERE status = 'open';
