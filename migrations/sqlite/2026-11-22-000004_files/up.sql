-- Content, stored once per distinct SHA-256 whatever the number of uploads.
-- last_seen_at is refreshed by every upload of the same bytes, so garbage
-- collection never removes content an upload in flight is about to reference.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    md5 TEXT NOT NULL,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    extension TEXT NOT NULL,
    kind INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    last_seen_at TIMESTAMP NOT NULL
);

-- One upload: who sent it, under what name, and (once attached) where.
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    fid TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    name TEXT NOT NULL,
    uploader_id BIGINT NOT NULL REFERENCES users (id),
    scope_user_id BIGINT REFERENCES users (id),
    thread_id BIGINT REFERENCES threads (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX files_sha256_idx ON files (sha256);
-- Garbage collection reads only the uploads never attached.
CREATE INDEX files_unattached_idx ON files (created_at) WHERE thread_id IS NULL;

ALTER TABLE messages ADD COLUMN file_id BIGINT REFERENCES files (id);
