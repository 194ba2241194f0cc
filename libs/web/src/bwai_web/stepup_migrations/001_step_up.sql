-- Step-up tokens already spent in this service's database, so each approves one action only.
-- A row is needed only until the token expires; expired rows may be deleted at any time.

CREATE TABLE step_up_uses (
    jti text PRIMARY KEY,
    subject text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    used_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX step_up_uses_expires_at ON step_up_uses (expires_at);
