-- Every keyed write inserts a row here, in the write's transaction; each B-tree it touches is one
-- more page for the commit to write. Ids need not be AUTOINCREMENT (which also rewrites
-- sqlite_sequence on every insert): they only order the keys by age. Trimming walks the table in
-- id order instead of keeping an index on created_at up to date with every write.
CREATE TABLE idempotency_keys_new (
    id INTEGER PRIMARY KEY NOT NULL,
    list TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (list, key)
);
INSERT INTO idempotency_keys_new (id, list, key, fingerprint, status, headers, body, created_at)
SELECT id, list, key, fingerprint, status, headers, body, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
