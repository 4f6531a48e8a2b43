DROP INDEX login_failures_address_idx;
ALTER TABLE login_failures DROP COLUMN address;
