"""Daily reconciliation of provider settlement records against our deposits and ledger."""
