-- The same table as migrations/sqlite/. A sequence never hands out an id twice, so a stale client
-- that still holds the id of a deleted todo gets 404 instead of silently editing a newer one.
CREATE TABLE todos (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 1000),
    position INTEGER NOT NULL DEFAULT 0,
    completed BOOLEAN NOT NULL DEFAULT FALSE
);
