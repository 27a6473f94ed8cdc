-- CalDAV: when each todo last changed (for DTSTAMP and LAST-MODIFIED), and, for a todo a CalDAV
-- client sent, its UID, the name of its object in the collection, and what the client sent
-- (returned as sent, with the properties the server models brought up to date). A row outlives its
-- todo, so that a sync report can name the object that went; a new object of the same name or UID
-- takes its place.
ALTER TABLE todos ADD COLUMN modified_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE todo_objects (
    todo_id INTEGER PRIMARY KEY NOT NULL,
    list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    name TEXT NOT NULL,
    ical TEXT NOT NULL,
    -- The todo's version when the client sent it: at that version the object is `ical` as sent.
    version INTEGER NOT NULL
);
CREATE UNIQUE INDEX todo_objects_uid ON todo_objects (list_id, uid);
CREATE UNIQUE INDEX todo_objects_name ON todo_objects (list_id, name);
-- A list made from a CalDAV client (MKCALENDAR) lives at the name the client chose in its owner's
-- calendar home, rather than at its id.
CREATE TABLE list_dav_names (
    list_id INTEGER PRIMARY KEY NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX list_dav_names_owner_name ON list_dav_names (owner_id, name);
