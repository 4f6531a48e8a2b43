-- Accounts hold credentials; users are the profiles people show (contract §2).
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    aid TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    is_staff BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    uid BIGINT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    nickname TEXT NOT NULL,
    avatar_url TEXT NOT NULL DEFAULT '',
    is_primary BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_account_idx ON users (account_id);

-- Only a hash of each token is stored; the token itself exists only on the wire.
CREATE TABLE auth_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    user_id BIGINT REFERENCES users (id),
    scope TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_tokens_account_idx ON auth_tokens (account_id);

-- Every thread (order or conversation) keeps its own message counter and the last
-- sequence number handed out, so pages are seeks and totals are reads.
CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    message_count BIGINT NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_message_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE comm_orders (
    id BIGINT PRIMARY KEY NOT NULL REFERENCES threads (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    archive_id BIGINT NOT NULL,
    order_id BIGINT NOT NULL DEFAULT 0,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    phone TEXT NOT NULL,
    images TEXT NOT NULL DEFAULT '[]',
    sketch_images TEXT NOT NULL DEFAULT '[]',
    finished_images TEXT NOT NULL DEFAULT '[]',
    event_date TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 0,
    admin_id BIGINT REFERENCES users (id),
    quote_price TEXT NOT NULL DEFAULT '',
    quote_content TEXT NOT NULL DEFAULT '',
    order_extra TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX comm_orders_user_idx ON comm_orders (user_id, id);
CREATE INDEX comm_orders_status_idx ON comm_orders (status, id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads (id),
    seq BIGINT NOT NULL,
    sender_id BIGINT REFERENCES users (id),
    sender_role INTEGER NOT NULL,
    sender_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- The one hot read path: a page of a thread is a range of this index.
CREATE UNIQUE INDEX messages_thread_seq_idx ON messages (thread_id, seq);
