-- Accounts: every todo belongs to a user (or, when user_id is NULL, to the shared list of open
-- mode). Secrets are stored only as hashes: passwords as Argon2id PHC strings, session and API
-- tokens as SHA-256 hex digests. Times are Unix seconds.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
    -- The username folded to lower case: names are unique regardless of case.
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
-- Failed sign-ins, counted per username and per client address to throttle password guessing.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username_key TEXT NOT NULL,
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_username ON sign_in_failures (username_key, at);
CREATE INDEX sign_in_failures_client ON sign_in_failures (client, at);
ALTER TABLE todos ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX todos_user_position_id ON todos (user_id, position, id);
-- Counts deletions of sessions, API tokens and users. A server may keep a verified credential in
-- memory for as long as this count is the one it read with it, so that a revocation (sign-out, a
-- revoked token, a removed user, a new password), by any process, takes effect at once everywhere.
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO auth_generation (id, value) VALUES (1, 0);
CREATE TRIGGER auth_generation_after_session_delete AFTER DELETE ON sessions
BEGIN
    UPDATE auth_generation SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_generation_after_token_delete AFTER DELETE ON api_tokens
BEGIN
    UPDATE auth_generation SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_generation_after_user_delete AFTER DELETE ON users
BEGIN
    UPDATE auth_generation SET value = value + 1 WHERE id = 1;
END;
