-- Nothing changes on SQLite, whose single writer never has two sends
-- locking rows at once (the PostgreSQL migration of the same name drops the
-- keys of messages to threads and users). Kept so both engines list the
-- same migrations.
SELECT 1;
