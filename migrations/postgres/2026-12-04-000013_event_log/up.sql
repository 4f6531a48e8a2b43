-- Nothing changes on PostgreSQL, whose positions already come from the
-- recording transaction (000009) and whose writers append side by side (the
-- SQLite migration of the same name turns its feed into one log). Kept so
-- both engines list the same migrations.
SELECT 1;
