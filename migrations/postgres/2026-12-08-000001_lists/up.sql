-- Lists: a user owns any number of them, one of which is their default list ("Todos", made at
-- sign-up); open mode's todos belong to list 1, which has no owner. A list's members are editors
-- (read and write its todos) or viewers (read only); the owner is not a member row.
--
-- Every todo moves into a list: a user's into their default list, ownerless ones into list 1. The
-- change log names lists instead of users, and may hold rows about a list itself (todo_id NULL: its
-- title, its members, or its end), written by list_changed(). Kept idempotency answers are renamed
-- to their list and user.
CREATE TABLE lists (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
    -- NULL: open mode's list.
    owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX lists_owner ON lists (owner_id, id);
CREATE UNIQUE INDEX lists_one_default ON lists (owner_id) WHERE is_default;
INSERT INTO lists (id, title, owner_id, is_default, created_at) VALUES (1, 'Todos', NULL, TRUE, 0);
INSERT INTO lists (id, title, owner_id, is_default, created_at)
    SELECT 1 + row_number() OVER (ORDER BY id), 'Todos', id, TRUE, created_at FROM users;
SELECT setval(pg_get_serial_sequence('lists', 'id'), (SELECT MAX(id) FROM lists));

CREATE TABLE memberships (
    list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (list_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, list_id);

ALTER TABLE todos ADD COLUMN list_id INTEGER REFERENCES lists (id) ON DELETE CASCADE;
ALTER TABLE todos DISABLE TRIGGER todo_changes_record;
UPDATE todos t SET list_id = COALESCE(
    (SELECT l.id FROM lists l WHERE l.owner_id = t.user_id AND l.is_default), 1);
ALTER TABLE todos ENABLE TRIGGER todo_changes_record;
ALTER TABLE todos ALTER COLUMN list_id SET NOT NULL;
-- A todo inserted without a list (by hand, say) is open mode's, as one without an owner was.
ALTER TABLE todos ALTER COLUMN list_id SET DEFAULT 1;
DROP INDEX todos_user_position_id;
DROP INDEX todos_position_id;
ALTER TABLE todos DROP COLUMN user_id;
CREATE INDEX todos_list_position_id ON todos (list_id, position, id);

ALTER TABLE todo_changes ADD COLUMN list_id INTEGER;
UPDATE todo_changes c SET list_id = COALESCE(
    (SELECT l.id FROM lists l WHERE l.owner_id = c.user_id AND l.is_default), 1);
ALTER TABLE todo_changes ALTER COLUMN list_id SET NOT NULL;
ALTER TABLE todo_changes ALTER COLUMN todo_id DROP NOT NULL;
DROP INDEX todo_changes_list;
ALTER TABLE todo_changes DROP COLUMN user_id;
CREATE INDEX todo_changes_list ON todo_changes (list_id, id);

-- Changes to one list take turns (a transaction-scoped advisory lock per list, taken before the
-- change number is drawn), so within a list, numbers follow commit order. Each committed
-- transaction notifies `todo_changes` with the list's id, for the instances' listeners.
CREATE OR REPLACE FUNCTION todo_changes_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.list_id IS DISTINCT FROM NEW.list_id) THEN
        PERFORM pg_advisory_xact_lock(1953460082, OLD.list_id);
        INSERT INTO todo_changes (list_id, todo_id, deleted) VALUES (OLD.list_id, OLD.id, TRUE);
        PERFORM pg_notify('todo_changes', OLD.list_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_advisory_xact_lock(1953460082, NEW.list_id);
        INSERT INTO todo_changes (list_id, todo_id, deleted, title, position, completed, version)
        VALUES (NEW.list_id, NEW.id, FALSE, NEW.title, NEW.position, NEW.completed, NEW.version);
        PERFORM pg_notify('todo_changes', NEW.list_id::text);
    END IF;
    RETURN NULL;
END
$$;

-- A change to the list itself (title, members, deletion), in the same order and with the same
-- notification as its todos' changes.
CREATE FUNCTION list_changed(list INTEGER) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    number BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(1953460082, list);
    INSERT INTO todo_changes (list_id, deleted) VALUES (list, FALSE) RETURNING id INTO number;
    PERFORM pg_notify('todo_changes', list::text);
    RETURN number;
END
$$;

-- Kept answers were a user's ("user:ID") or open mode's ("shared"); now a list's and its caller's.
UPDATE idempotency_keys k
    SET list = 'list:' || l.id || ':user:' || l.owner_id
    FROM lists l
    WHERE k.list LIKE 'user:%' AND l.is_default AND l.owner_id::text = substr(k.list, 6);
UPDATE idempotency_keys SET list = 'list:1' WHERE list = 'shared';
UPDATE todos_generation SET value = value + 1 WHERE id = 1;
