-- SQLite cannot drop a column that references another table, so todos is rebuilt without it
-- (every todo is kept, owned or not), with its index and the generation triggers.
CREATE TABLE todos_without_owner (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
    position INTEGER NOT NULL DEFAULT 0,
    completed BOOLEAN NOT NULL DEFAULT FALSE CHECK (completed IN (0, 1)),
    version INTEGER NOT NULL DEFAULT 1
);
INSERT INTO todos_without_owner (id, title, position, completed, version)
    SELECT id, title, position, completed, version FROM todos;
DROP TABLE todos;
ALTER TABLE todos_without_owner RENAME TO todos;
CREATE INDEX todos_position_id ON todos (position, id);
CREATE TRIGGER todos_generation_after_insert AFTER INSERT ON todos
BEGIN
    UPDATE todos_generation SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER todos_generation_after_update AFTER UPDATE ON todos
BEGIN
    UPDATE todos_generation SET value = value + 1 WHERE id = 1;
END;
CREATE TRIGGER todos_generation_after_delete AFTER DELETE ON todos
BEGIN
    UPDATE todos_generation SET value = value + 1 WHERE id = 1;
END;
UPDATE todos_generation SET value = value + 1 WHERE id = 1;
DROP TRIGGER auth_generation_after_session_delete;
DROP TRIGGER auth_generation_after_token_delete;
DROP TRIGGER auth_generation_after_user_delete;
DROP TABLE auth_generation;
DROP TABLE sign_in_failures;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
