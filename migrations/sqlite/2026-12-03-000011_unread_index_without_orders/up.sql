-- Only conversation messages have a recipient. Order messages (recipient_id
-- NULL) were indexed here for nothing, and every order message sent wrote
-- this index too: one more page per group commit on SQLite, one more index
-- entry per send on PostgreSQL. Every read that may use it asks for one
-- recipient, which implies the condition.
-- Rebuilding it reads every message once; writes wait for that (a few
-- seconds per million messages).
DROP INDEX messages_unread_idx;
CREATE INDEX messages_unread_idx ON messages (recipient_id, recipient_read_at)
    WHERE recipient_id IS NOT NULL;
