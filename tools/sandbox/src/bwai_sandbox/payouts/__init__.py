"""NOWPayments mass payouts: create, verify with a 2FA code, status webhooks."""
