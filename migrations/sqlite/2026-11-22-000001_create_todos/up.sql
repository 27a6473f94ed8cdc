-- AUTOINCREMENT: an id is never handed out twice, so a stale client that still holds the id of a
-- deleted todo gets 404 instead of silently editing a newer one.
CREATE TABLE todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
    position INTEGER NOT NULL DEFAULT 0,
    completed BOOLEAN NOT NULL DEFAULT FALSE CHECK (completed IN (0, 1))
);
