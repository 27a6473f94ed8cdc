-- Trimming walks the table in id order (ids grow with time) instead of keeping an index on
-- created_at up to date with every keyed write.
DROP INDEX idempotency_keys_created_at;
