DROP TABLE todo_objects;
ALTER TABLE todos DROP COLUMN modified_at;
