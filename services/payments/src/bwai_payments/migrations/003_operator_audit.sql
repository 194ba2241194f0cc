-- Operator audit: one row per operator action on payments, written in the action's own
-- transaction. Rows are only appended. The trigger below rejects UPDATE, DELETE and TRUNCATE
-- for every role, the table owner included, because REVOKE does not bind the owner.

CREATE TABLE operator_audit (
    id uuid PRIMARY KEY,
    -- The principal's subject: a user id, or a client id for an API client with the role.
    actor text NOT NULL,
    action text NOT NULL,
    occurred_at timestamptz NOT NULL,
    target_type text NOT NULL,
    target_id text NOT NULL,
    tenant_id text,
    client_address text,
    user_agent text,
    correlation_id text,
    request_id text,
    idempotency_key text,
    before jsonb,
    after jsonb
);

-- Listing is newest first, paged by id (UUIDv7 ids sort by creation time).
CREATE INDEX operator_audit_actor_idx ON operator_audit (actor, id DESC);
CREATE INDEX operator_audit_target_idx ON operator_audit (target_type, target_id, id DESC);
CREATE INDEX operator_audit_action_idx ON operator_audit (action, id DESC);
CREATE INDEX operator_audit_occurred_idx ON operator_audit (occurred_at);

CREATE FUNCTION operator_audit_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'operator_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER operator_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON operator_audit
    FOR EACH ROW EXECUTE FUNCTION operator_audit_reject_change();

CREATE TRIGGER operator_audit_no_truncate
    BEFORE TRUNCATE ON operator_audit
    FOR EACH STATEMENT EXECUTE FUNCTION operator_audit_reject_change();
