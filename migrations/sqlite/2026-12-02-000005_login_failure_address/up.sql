-- The five-failure lock is per account and client address, so a stranger
-- who knows an account's e-mail address cannot lock its owner out.
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_address_idx ON login_failures (account_id, address, created_at);
