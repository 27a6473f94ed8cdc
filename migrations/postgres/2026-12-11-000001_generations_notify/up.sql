-- Every instance keeps what it rendered for as long as the counts of changes it read with it are
-- current. Each raise of a count notifies `generations` when its transaction commits, so that an
-- instance's listening connection hears of another instance's writes (or anyone's SQL) at once and
-- reads the counts again, instead of every read asking the database.
CREATE FUNCTION generations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('generations', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER todos_generation_notify AFTER UPDATE ON todos_generation
    FOR EACH STATEMENT EXECUTE FUNCTION generations_notify();
CREATE TRIGGER auth_generation_notify AFTER UPDATE ON auth_generation
    FOR EACH STATEMENT EXECUTE FUNCTION generations_notify();
