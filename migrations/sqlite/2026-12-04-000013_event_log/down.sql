-- Back to a row per event per feed, numbered 1, 2, 3, … along each feed.
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
INSERT INTO events (feed, position, kind, thread_id, actor_id, message_id, detail, created_at)
SELECT a.feed, ROW_NUMBER() OVER (PARTITION BY a.feed ORDER BY a.event_id),
       l.kind, l.thread_id, l.actor_id, l.message_id, l.detail, l.created_at
FROM event_audience AS a JOIN event_log AS l ON l.id = a.event_id;
DROP TABLE event_audience;
DROP TABLE event_log;
