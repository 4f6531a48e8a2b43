DROP INDEX messages_unread_idx;
CREATE INDEX messages_unread_idx ON messages (recipient_id, recipient_read_at);
