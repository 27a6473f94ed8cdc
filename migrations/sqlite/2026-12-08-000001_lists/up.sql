-- Lists: a user owns any number of them, one of which is their default list ("Todos", made at
-- sign-up); open mode's todos belong to list 1, which has no owner. A list's members are editors
-- (read and write its todos) or viewers (read only); the owner is not a member row.
--
-- Every todo moves into a list: a user's into their default list, ownerless ones into list 1. The
-- change log names lists instead of users, and may hold rows about a list itself (todo_id NULL: its
-- title, its members, or its end). Kept idempotency answers are renamed to their list and user.
CREATE TABLE lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    -- NULL: open mode's list.
    owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE CHECK (is_default IN (0, 1)),
    created_at BIGINT NOT NULL
);
CREATE INDEX lists_owner ON lists (owner_id, id);
CREATE UNIQUE INDEX lists_one_default ON lists (owner_id) WHERE is_default;
INSERT INTO lists (id, title, owner_id, is_default, created_at) VALUES (1, 'Todos', NULL, TRUE, 0);
INSERT INTO lists (title, owner_id, is_default, created_at)
    SELECT 'Todos', id, TRUE, created_at FROM users ORDER BY id;

CREATE TABLE memberships (
    list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, list_id);

-- SQLite cannot drop a column that references another table: todos is rebuilt, keeping every id,
-- and its id sequence where it was (ids of deleted todos are never given again).
CREATE TABLE todos_in_lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
    position INTEGER NOT NULL DEFAULT 0,
    completed BOOLEAN NOT NULL DEFAULT FALSE CHECK (completed IN (0, 1)),
    version INTEGER NOT NULL DEFAULT 1,
    -- A todo inserted without a list (by hand, say) is open mode's, as one without an owner was.
    list_id INTEGER NOT NULL DEFAULT 1 REFERENCES lists (id) ON DELETE CASCADE
);
INSERT INTO todos_in_lists (id, title, position, completed, version, list_id)
    SELECT t.id, t.title, t.position, t.completed, t.version,
           COALESCE((SELECT l.id FROM lists l WHERE l.owner_id = t.user_id AND l.is_default), 1)
    FROM todos t;
DELETE FROM sqlite_sequence WHERE name = 'todos_in_lists';
INSERT INTO sqlite_sequence (name, seq) SELECT 'todos_in_lists', seq FROM sqlite_sequence WHERE name = 'todos';
DROP TABLE todos;
ALTER TABLE todos_in_lists RENAME TO todos;
CREATE INDEX todos_list_position_id ON todos (list_id, position, id);
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

-- The change log, by list, its numbers kept (never reused).
CREATE TABLE todo_changes_by_list (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    list_id INTEGER NOT NULL,
    -- NULL: a change to the list itself (its title, its members, or its deletion).
    todo_id INTEGER,
    deleted BOOLEAN NOT NULL CHECK (deleted IN (0, 1)),
    title TEXT,
    position INTEGER,
    completed BOOLEAN,
    version INTEGER
);
INSERT INTO todo_changes_by_list (id, list_id, todo_id, deleted, title, position, completed, version)
    SELECT c.id,
           COALESCE((SELECT l.id FROM lists l WHERE l.owner_id = c.user_id AND l.is_default), 1),
           c.todo_id, c.deleted, c.title, c.position, c.completed, c.version
    FROM todo_changes c;
DELETE FROM sqlite_sequence WHERE name = 'todo_changes_by_list';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'todo_changes_by_list', seq FROM sqlite_sequence WHERE name = 'todo_changes';
DROP TABLE todo_changes;
ALTER TABLE todo_changes_by_list RENAME TO todo_changes;
CREATE INDEX todo_changes_list ON todo_changes (list_id, id);
CREATE TRIGGER todo_changes_after_insert AFTER INSERT ON todos
BEGIN
    INSERT INTO todo_changes (list_id, todo_id, deleted, title, position, completed, version)
    VALUES (NEW.list_id, NEW.id, FALSE, NEW.title, NEW.position, NEW.completed, NEW.version);
END;
CREATE TRIGGER todo_changes_after_update AFTER UPDATE ON todos
BEGIN
    -- A todo that moves to another list leaves the old one.
    INSERT INTO todo_changes (list_id, todo_id, deleted)
    SELECT OLD.list_id, OLD.id, TRUE WHERE OLD.list_id IS NOT NEW.list_id;
    INSERT INTO todo_changes (list_id, todo_id, deleted, title, position, completed, version)
    VALUES (NEW.list_id, NEW.id, FALSE, NEW.title, NEW.position, NEW.completed, NEW.version);
END;
CREATE TRIGGER todo_changes_after_delete AFTER DELETE ON todos
BEGIN
    INSERT INTO todo_changes (list_id, todo_id, deleted) VALUES (OLD.list_id, OLD.id, TRUE);
END;

-- Kept answers were a user's ("user:ID") or open mode's ("shared"); now a list's and its caller's.
UPDATE idempotency_keys
    SET list = 'list:' || (SELECT l.id FROM lists l
                           WHERE l.is_default AND l.owner_id = CAST(substr(idempotency_keys.list, 6) AS INTEGER))
               || ':user:' || substr(list, 6)
    WHERE list LIKE 'user:%';
UPDATE idempotency_keys SET list = 'list:1' WHERE list = 'shared';
UPDATE todos_generation SET value = value + 1 WHERE id = 1;
