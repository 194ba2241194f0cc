-- The W3C traceparent of the request that initiated the payment, NULL when tracing was off.
-- The consumer that applies the payment's webhooks continues this trace, so the initiation,
-- each webhook's effect and its ledger entry are in one trace.
ALTER TABLE payments ADD COLUMN trace_context text;
