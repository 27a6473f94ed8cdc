-- Sign-ups by client address, for the sign-up throttle (auth.max_signups_per_client). Usernames'
-- keys are recomputed (NFKC, case-folded, invisible formatting removed) by the server right after
-- this migration; if two names become one, the migration is reverted and the names reported.
CREATE TABLE sign_up_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    client TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_up_attempts_client ON sign_up_attempts (client, at);
CREATE INDEX sign_in_failures_username_client ON sign_in_failures (username_key, client, at);
