-- The change log behind live updates: one row per change to a todo, written by triggers in the
-- same transaction as the change, whoever makes it. `id` is the change number (never reused);
-- `user_id` names the list (NULL: the shared list of open mode). A row holds the todo as the change
-- left it, or `deleted`. Writers take SQLite's write lock in turn, so ids follow commit order.
CREATE TABLE todo_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER,
    todo_id INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL CHECK (deleted IN (0, 1)),
    title TEXT,
    position INTEGER,
    completed BOOLEAN,
    version INTEGER
);
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
