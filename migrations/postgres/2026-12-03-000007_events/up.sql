-- The change feed (docs/architecture.md, "The change feed"). Each feed (a
-- user's, or the staff's, key 0) numbers its events without gaps; the
-- counter row is bumped in the transaction that records the change and stays
-- locked until it commits, so positions are handed out in commit order and a
-- reader that has seen position n never later finds a smaller one appear.
CREATE TABLE event_feeds (
    feed BIGINT PRIMARY KEY NOT NULL,
    last_position BIGINT NOT NULL
);

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
);
