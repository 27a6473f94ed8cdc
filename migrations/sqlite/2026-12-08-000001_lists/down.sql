-- Back to one list per user: every todo goes to its list's owner (open mode's list, and lists
-- without an owner, to nobody). Members, and which list a todo was in, are forgotten.
CREATE TABLE todos_of_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
    position INTEGER NOT NULL DEFAULT 0,
    completed BOOLEAN NOT NULL DEFAULT FALSE CHECK (completed IN (0, 1)),
    version INTEGER NOT NULL DEFAULT 1,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE
);
INSERT INTO todos_of_users (id, title, position, completed, version, user_id)
    SELECT t.id, t.title, t.position, t.completed, t.version,
           (SELECT l.owner_id FROM lists l WHERE l.id = t.list_id)
    FROM todos t;
DELETE FROM sqlite_sequence WHERE name = 'todos_of_users';
INSERT INTO sqlite_sequence (name, seq) SELECT 'todos_of_users', seq FROM sqlite_sequence WHERE name = 'todos';
DROP TABLE todos;
ALTER TABLE todos_of_users RENAME TO todos;
CREATE INDEX todos_position_id ON todos (position, id);
CREATE INDEX todos_user_position_id ON todos (user_id, position, id);
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

CREATE TABLE todo_changes_by_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER,
    todo_id INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL CHECK (deleted IN (0, 1)),
    title TEXT,
    position INTEGER,
    completed BOOLEAN,
    version INTEGER
);
-- Changes to lists themselves, and to lists that are gone, have no place in the old log.
INSERT INTO todo_changes_by_user (id, user_id, todo_id, deleted, title, position, completed, version)
    SELECT c.id, l.owner_id, c.todo_id, c.deleted, c.title, c.position, c.completed, c.version
    FROM todo_changes c JOIN lists l ON l.id = c.list_id
    WHERE c.todo_id IS NOT NULL;
DELETE FROM sqlite_sequence WHERE name = 'todo_changes_by_user';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'todo_changes_by_user', seq FROM sqlite_sequence WHERE name = 'todo_changes';
DROP TABLE todo_changes;
ALTER TABLE todo_changes_by_user RENAME TO todo_changes;
CREATE INDEX todo_changes_list ON todo_changes (user_id, id);
CREATE TRIGGER todo_changes_after_insert AFTER INSERT ON todos
BEGIN
    INSERT INTO todo_changes (user_id, todo_id, deleted, title, position, completed, version)
    VALUES (NEW.user_id, NEW.id, FALSE, NEW.title, NEW.position, NEW.completed, NEW.version);
END;
CREATE TRIGGER todo_changes_after_update AFTER UPDATE ON todos
BEGIN
    -- A todo that moves to another list (claimed) leaves the old one.
    INSERT INTO todo_changes (user_id, todo_id, deleted)
    SELECT OLD.user_id, OLD.id, TRUE WHERE OLD.user_id IS NOT NEW.user_id;
    INSERT INTO todo_changes (user_id, todo_id, deleted, title, position, completed, version)
    VALUES (NEW.user_id, NEW.id, FALSE, NEW.title, NEW.position, NEW.completed, NEW.version);
END;
CREATE TRIGGER todo_changes_after_delete AFTER DELETE ON todos
BEGIN
    INSERT INTO todo_changes (user_id, todo_id, deleted) VALUES (OLD.user_id, OLD.id, TRUE);
END;

-- Kept answers: a user's again, open mode's "shared"; those of other users' lists are dropped.
DELETE FROM idempotency_keys
    WHERE list LIKE 'list:%:user:%'
      AND NOT EXISTS (SELECT 1 FROM lists l
                      WHERE l.is_default AND idempotency_keys.list = 'list:' || l.id || ':user:' || l.owner_id);
UPDATE idempotency_keys SET list = 'user:' || substr(list, instr(list, ':user:') + 6)
    WHERE list LIKE 'list:%:user:%';
DELETE FROM idempotency_keys WHERE list LIKE 'list:%' AND list <> 'list:1';
UPDATE idempotency_keys SET list = 'shared' WHERE list = 'list:1';

DROP TABLE memberships;
DROP TABLE lists;
UPDATE todos_generation SET value = value + 1 WHERE id = 1;
