-- Every write raises a todo's version; it is the todo's ETag, so that a client can make an update
-- or a delete conditional on having seen the latest version (If-Match), and two tabs editing the
-- same todo cannot silently overwrite each other.
ALTER TABLE todos ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
