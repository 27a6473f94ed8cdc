DROP TABLE list_dav_names;
DROP TABLE todo_objects;
ALTER TABLE todos DROP COLUMN modified_at;
