CREATE TABLE idempotency_keys_old (
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
INSERT INTO idempotency_keys_old (id, list, key, fingerprint, status, headers, body, created_at)
SELECT id, list, key, fingerprint, status, headers, body, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_old RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
