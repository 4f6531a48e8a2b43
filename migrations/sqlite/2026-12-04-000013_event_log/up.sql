-- The feed becomes one log on SQLite (docs/architecture.md, "The change
-- feed"). `events` kept a row per event per feed, keyed by (feed, position):
-- every send appended to two feeds in the middle of that tree, and SQLite
-- rebalances a page that fills there with its siblings, so a batch of sends
-- rewrote five or six pages of it (docs/benchmarks.md, "One log for the feed
-- on SQLite"). Now each event is one row of `event_log`, appended at the
-- tree's right edge, and a feed is the index `event_audience` of small
-- (feed, event) entries. An event's id is its position in every feed that
-- hears of it: positions increase along a feed, with gaps, as on PostgreSQL.
-- No foreign keys, as on PostgreSQL since 000010: the writes that record
-- events have just read or written the thread and the actor.
CREATE TABLE event_log (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    thread_id BIGINT NOT NULL,
    actor_id BIGINT,
    message_id BIGINT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE event_audience (
    feed BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (feed, event_id)
) WITHOUT ROWID;
-- Each stored row becomes an event of its own, in its feed's order, with an
-- id above every old position: a position a client was given before the
-- upgrade is below its feed's oldest, so a stream resuming from it answers
-- `resync` (docs/realtime.md) rather than missing anything.
CREATE TEMPORARY TABLE renumbered AS
SELECT (SELECT COALESCE(MAX(position), 0) FROM events)
       + ROW_NUMBER() OVER (ORDER BY feed, position) AS id,
       feed, kind, thread_id, actor_id, message_id, detail, created_at
FROM events;
INSERT INTO event_log (id, kind, thread_id, actor_id, message_id, detail, created_at)
SELECT id, kind, thread_id, actor_id, message_id, detail, created_at FROM renumbered;
INSERT INTO event_audience (feed, event_id) SELECT feed, id FROM renumbered;
DROP TABLE renumbered;
DROP TABLE events;
