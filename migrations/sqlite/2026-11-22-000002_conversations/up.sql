-- Fresns: app keys sign requests; the secret must be readable to check MD5
-- signatures, so it is stored as issued (see docs/fresns.md).
CREATE TABLE app_keys (
    id INTEGER PRIMARY KEY,
    app_id TEXT NOT NULL UNIQUE,
    app_secret TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    key_type INTEGER NOT NULL DEFAULT 1,
    is_enabled BOOLEAN NOT NULL DEFAULT 1,
    is_read_only BOOLEAN NOT NULL DEFAULT 0,
    token_ttl_secs BIGINT,
    created_at TIMESTAMP NOT NULL
);

-- Fresns tokens remember the platform and app they were issued to, and user
-- tokens the account token they were issued under (logout revokes both).
ALTER TABLE auth_tokens ADD COLUMN platform_id INTEGER;
ALTER TABLE auth_tokens ADD COLUMN app_id TEXT;
ALTER TABLE auth_tokens ADD COLUMN parent_hash TEXT;
CREATE INDEX auth_tokens_parent_idx ON auth_tokens (parent_hash);

-- Profile settings Fresns exposes; neutral defaults for everyone else.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN conversation_limit INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN is_enabled BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN is_verified BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES users (id),
    followee_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);

CREATE TABLE blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id),
    blocked_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_account_idx ON login_failures (account_id, created_at);

-- A conversation is a thread between two users. Each side has its own display,
-- pin, visible-message and unread counters, maintained on every write so the list
-- never counts rows. low/high hold the pair in a fixed order: one conversation per pair.
CREATE TABLE conversations (
    id BIGINT PRIMARY KEY NOT NULL REFERENCES threads (id),
    a_user_id BIGINT NOT NULL REFERENCES users (id),
    b_user_id BIGINT NOT NULL REFERENCES users (id),
    low_user_id BIGINT NOT NULL,
    high_user_id BIGINT NOT NULL,
    a_is_display BOOLEAN NOT NULL DEFAULT 1,
    b_is_display BOOLEAN NOT NULL DEFAULT 1,
    a_is_pin BOOLEAN NOT NULL DEFAULT 0,
    b_is_pin BOOLEAN NOT NULL DEFAULT 0,
    a_message_count BIGINT NOT NULL DEFAULT 0,
    b_message_count BIGINT NOT NULL DEFAULT 0,
    a_unread_count BIGINT NOT NULL DEFAULT 0,
    b_unread_count BIGINT NOT NULL DEFAULT 0,
    latest_message_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX conversations_pair_idx ON conversations (low_user_id, high_user_id);
CREATE INDEX conversations_a_idx ON conversations (a_user_id, latest_message_at);
CREATE INDEX conversations_b_idx ON conversations (b_user_id, latest_message_at);

-- Per-side state of conversation messages (NULL for order messages).
ALTER TABLE messages ADD COLUMN recipient_id BIGINT REFERENCES users (id);
ALTER TABLE messages ADD COLUMN sender_deleted_at TIMESTAMP;
ALTER TABLE messages ADD COLUMN recipient_deleted_at TIMESTAMP;
ALTER TABLE messages ADD COLUMN recipient_read_at TIMESTAMP;
CREATE INDEX messages_unread_idx ON messages (recipient_id, recipient_read_at);
