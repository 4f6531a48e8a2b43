-- Event positions on PostgreSQL come from the recording transaction's id,
-- not from a counter row per feed (docs/architecture.md, "The change feed"):
-- a position is the transaction id shifted left by 16 bits plus the event's
-- place among that transaction's events of the feed. A reader reads only
-- events of transactions older than its snapshot's xmin, all of which have
-- ended, so once it has seen position n nothing at or below n can still
-- appear. The counter rows serialised every write that told the same feed
-- (all order writes tell the staff feed) from the bump to the commit.
DROP TABLE event_feeds;
