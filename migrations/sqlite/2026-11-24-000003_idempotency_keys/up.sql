-- Idempotency-Key: the answer to the first request with a key, kept per list, so that a repeat
-- gets the same answer and nothing is done twice. The answer is stored in the same transaction as
-- the write it describes; the unique key makes a second writer with the same key roll back.
CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    list TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (list, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
