DROP TRIGGER todo_changes_record ON todos;
DROP FUNCTION todo_changes_record();
DROP TABLE todo_changes;
