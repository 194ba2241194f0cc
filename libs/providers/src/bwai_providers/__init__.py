"""Payment provider wire formats: webhook signatures and exact-decimal JSON."""
