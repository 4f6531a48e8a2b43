DROP TABLE messages;
DROP TABLE comm_orders;
DROP TABLE threads;
DROP TABLE auth_tokens;
DROP TABLE users;
DROP TABLE accounts;
