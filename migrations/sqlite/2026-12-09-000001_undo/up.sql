-- What the last form action of a person on a list changed, so that the page without JavaScript
-- can offer to undo it. The browser holds a random token (a short-lived cookie); only its hash is
-- kept here. `steps` is JSON: how to put back exactly what the action changed.
CREATE TABLE undo_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    -- NULL in open mode.
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    steps TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX undo_actions_list_user ON undo_actions (list_id, user_id);
CREATE INDEX undo_actions_created_at ON undo_actions (created_at);
