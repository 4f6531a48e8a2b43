-- A send writes its events before it locks its thread's row (every other
-- send to the thread waits from that lock to the commit). A foreign key
-- check would take a KEY SHARE lock on the thread's and the sender's rows
-- first, in every concurrent send at once, and PostgreSQL records several
-- lockers of one row as a multixact, which the thread's next UPDATE then
-- has to carry. Events are written in the transaction that writes what they
-- name, and threads and users are never deleted, so the keys guarded
-- nothing a test does not.
ALTER TABLE events DROP CONSTRAINT events_thread_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_actor_id_fkey;
