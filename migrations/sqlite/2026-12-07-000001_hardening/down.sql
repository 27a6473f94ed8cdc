DROP INDEX sign_in_failures_username_client;
DROP TABLE sign_up_attempts;
