DROP TRIGGER todo_changes_after_delete;
DROP TRIGGER todo_changes_after_update;
DROP TRIGGER todo_changes_after_insert;
DROP TABLE todo_changes;
