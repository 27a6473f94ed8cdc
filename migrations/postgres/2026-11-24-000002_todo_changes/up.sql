-- The change log behind live updates: one row per change to a todo, written by a trigger in the
-- same transaction as the change, whoever makes it. `id` is the change number (never reused);
-- `user_id` names the list (NULL: the shared list of open mode). A row holds the todo as the change
-- left it, or `deleted`.
--
-- Changes to one list take turns (a transaction-scoped advisory lock per list, taken before the
-- change number is drawn), so within a list, numbers follow commit order: a client that has seen
-- change N of its list can never later miss one below N. Each committed transaction notifies
-- `todo_changes` with the list's owner id ('' for the shared list), for the instances' listeners.
CREATE TABLE todo_changes (
    id BIGSERIAL PRIMARY KEY,
    user_id INTEGER,
    todo_id INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL,
    title TEXT,
    position INTEGER,
    completed BOOLEAN,
    version INTEGER
);
CREATE INDEX todo_changes_list ON todo_changes (user_id, id);
CREATE FUNCTION todo_changes_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id) THEN
        PERFORM pg_advisory_xact_lock(1953460082, COALESCE(OLD.user_id, 0));
        INSERT INTO todo_changes (user_id, todo_id, deleted) VALUES (OLD.user_id, OLD.id, TRUE);
        PERFORM pg_notify('todo_changes', COALESCE(OLD.user_id::text, ''));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_advisory_xact_lock(1953460082, COALESCE(NEW.user_id, 0));
        INSERT INTO todo_changes (user_id, todo_id, deleted, title, position, completed, version)
        VALUES (NEW.user_id, NEW.id, FALSE, NEW.title, NEW.position, NEW.completed, NEW.version);
        PERFORM pg_notify('todo_changes', COALESCE(NEW.user_id::text, ''));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER todo_changes_record AFTER INSERT OR UPDATE OR DELETE ON todos
    FOR EACH ROW EXECUTE FUNCTION todo_changes_record();
