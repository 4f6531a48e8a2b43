-- Messages a participant deleted on their side, per thread, in seq order: paging
-- a conversation maps a visible position to a seq by skipping exactly these, so
-- a page costs the same at any depth.
CREATE INDEX messages_sender_deleted_idx ON messages (thread_id, sender_id, seq)
    WHERE sender_deleted_at IS NOT NULL;
CREATE INDEX messages_recipient_deleted_idx ON messages (thread_id, recipient_id, seq)
    WHERE recipient_deleted_at IS NOT NULL;
