"""Email for the platform: SMTP sending and the Mailcow admin API client."""
