-- Counts changes to the list. Triggers raise it in the same transaction as every insert, update and
-- delete, whoever makes them, so a server may keep the rendered list and serve it again for as long
-- as the count it read with it is current.
CREATE TABLE todos_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO todos_generation (id, value) VALUES (1, 0);
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
