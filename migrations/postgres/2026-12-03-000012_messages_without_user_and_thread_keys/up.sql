-- A message's foreign keys to its thread, sender and recipient are checked
-- after its INSERT by a `SELECT … FOR KEY SHARE` of each parent row, which
-- writes a lock into that row (a WAL record and a dirtied page). A message
-- is stored after its thread's row is locked, so every other send to the
-- thread waits through these checks until the commit (docs/benchmarks.md,
-- "Foreign keys in the locked section"). Threads and users are never
-- deleted, and a message is stored only by the transaction that has just
-- updated its thread's row, for a sender who is signed in, to a recipient it
-- has just looked up, so the keys guarded nothing a test does not (the reasoning
-- of migration 000010 for events). The key to files stays: files are
-- deleted, and a message refers to one rarely.
ALTER TABLE messages DROP CONSTRAINT messages_thread_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_sender_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_recipient_id_fkey;
