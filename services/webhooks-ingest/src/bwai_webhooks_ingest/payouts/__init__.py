"""Provider payout status webhooks (NOWPayments payout IPNs)."""
