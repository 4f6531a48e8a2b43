-- The change feed (docs/architecture.md, "The change feed"). Each feed (a
-- user's, or the staff's, key 0) numbers its events without gaps. SQLite has
-- one writer at a time, so an event takes the position after its feed's
-- last; PostgreSQL keeps a counter per feed (event_feeds) instead.
-- One row per event per feed that hears of it: a reader resuming after
-- position n reads a range of the primary key.
CREATE TABLE events (
    feed BIGINT NOT NULL,
    position BIGINT NOT NULL,
    kind INTEGER NOT NULL,
    thread_id BIGINT NOT NULL REFERENCES threads (id),
    actor_id BIGINT REFERENCES users (id),
    message_id BIGINT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (feed, position)
) WITHOUT ROWID;
