-- Back to one list per user: every todo goes to its list's owner (open mode's list, and lists
-- without an owner, to nobody). Members, and which list a todo was in, are forgotten.
DROP FUNCTION list_changed(INTEGER);
ALTER TABLE todos ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE todos DISABLE TRIGGER todo_changes_record;
UPDATE todos t SET user_id = (SELECT l.owner_id FROM lists l WHERE l.id = t.list_id);
ALTER TABLE todos ENABLE TRIGGER todo_changes_record;
DROP INDEX todos_list_position_id;
ALTER TABLE todos DROP COLUMN list_id;
CREATE INDEX todos_position_id ON todos (position, id);
CREATE INDEX todos_user_position_id ON todos (user_id, position, id);

-- Changes to lists themselves, and to lists that are gone, have no place in the old log.
DELETE FROM todo_changes c
    WHERE c.todo_id IS NULL OR NOT EXISTS (SELECT 1 FROM lists l WHERE l.id = c.list_id);
ALTER TABLE todo_changes ADD COLUMN user_id INTEGER;
UPDATE todo_changes c SET user_id = (SELECT l.owner_id FROM lists l WHERE l.id = c.list_id);
ALTER TABLE todo_changes ALTER COLUMN todo_id SET NOT NULL;
DROP INDEX todo_changes_list;
ALTER TABLE todo_changes DROP COLUMN list_id;
CREATE INDEX todo_changes_list ON todo_changes (user_id, id);

CREATE OR REPLACE FUNCTION todo_changes_record() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- Kept answers: a user's again, open mode's "shared"; those of other users' lists are dropped.
DELETE FROM idempotency_keys k
    WHERE k.list LIKE 'list:%:user:%'
      AND NOT EXISTS (SELECT 1 FROM lists l
                      WHERE l.is_default AND k.list = 'list:' || l.id || ':user:' || l.owner_id);
UPDATE idempotency_keys SET list = 'user:' || substr(list, strpos(list, ':user:') + 6)
    WHERE list LIKE 'list:%:user:%';
DELETE FROM idempotency_keys WHERE list LIKE 'list:%' AND list <> 'list:1';
UPDATE idempotency_keys SET list = 'shared' WHERE list = 'list:1';

DROP TABLE memberships;
DROP TABLE lists;
UPDATE todos_generation SET value = value + 1 WHERE id = 1;
