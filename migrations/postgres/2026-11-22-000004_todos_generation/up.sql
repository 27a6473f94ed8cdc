-- Counts changes to the list. A trigger raises it in the same transaction as every statement that
-- changes todos, whoever runs it, so a server may keep the rendered list and serve it again for as
-- long as the count it read with it is current.
CREATE TABLE todos_generation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO todos_generation (id, value) VALUES (1, 0);
CREATE FUNCTION todos_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE todos_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER todos_generation_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON todos
    FOR EACH STATEMENT EXECUTE FUNCTION todos_generation_bump();
