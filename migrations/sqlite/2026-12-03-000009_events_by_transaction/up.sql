-- Nothing changes on SQLite: its single writer numbers each feed's events
-- without gaps (the PostgreSQL migration of the same name drops its
-- counter rows). Kept so both engines list the same migrations.
SELECT 1;
