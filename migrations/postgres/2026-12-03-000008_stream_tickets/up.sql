-- Stream tickets (docs/realtime.md, "Tickets"): a browser cannot set headers
-- on EventSource or WebSocket, so an ordinary authenticated call issues a
-- short-lived, single-use ticket it passes in the URL instead. Only the
-- ticket's hash is stored; redeeming deletes the row. The ticket stands for
-- the session it was issued under, which must still be valid when it is used.
CREATE TABLE stream_tickets (
    ticket_hash TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX stream_tickets_expires_idx ON stream_tickets (expires_at);
