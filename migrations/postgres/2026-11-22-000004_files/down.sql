ALTER TABLE messages DROP COLUMN file_id;
DROP TABLE files;
DROP TABLE blobs;
