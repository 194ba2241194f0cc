"""Provider sandbox: a local stand-in for NOWPayments and Coinbase Commerce."""
