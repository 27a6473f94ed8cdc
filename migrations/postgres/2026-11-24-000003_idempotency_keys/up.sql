-- Idempotency-Key: the answer to the first request with a key, kept per list, so that a repeat
-- gets the same answer and nothing is done twice. `status` is NULL while the first request is
-- being processed. The answer is stored in the same transaction as the write it describes.
CREATE TABLE idempotency_keys (
    id SERIAL PRIMARY KEY,
    list TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    headers TEXT,
    body TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (list, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
