CREATE TABLE event_feeds (
    feed BIGINT PRIMARY KEY NOT NULL,
    last_position BIGINT NOT NULL
);
-- Counting on from the newest position keeps every feed increasing.
INSERT INTO event_feeds (feed, last_position)
SELECT feed, max(position) FROM events GROUP BY feed;
