DROP INDEX todos_user_position_id;
ALTER TABLE todos DROP COLUMN user_id;
DROP TABLE sign_in_failures;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
