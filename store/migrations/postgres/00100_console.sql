-- The review console's own tables: local users (Argon2id hashes, never a
-- password), server-side sessions (a hash of the cookie's token, never the
-- token) and saved list views. Version 100 leaves room below for the
-- incident store's own migrations.

-- +goose Up
CREATE TABLE console_users (
	name        TEXT PRIMARY KEY,
	role        TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
	hash        TEXT NOT NULL,
	created_us  BIGINT NOT NULL,
	updated_us  BIGINT NOT NULL
);

CREATE TABLE console_sessions (
	token_hash  TEXT PRIMARY KEY,
	username    TEXT NOT NULL,
	csrf        TEXT NOT NULL,
	addr        TEXT NOT NULL DEFAULT '',
	created_us  BIGINT NOT NULL,
	seen_us     BIGINT NOT NULL,
	expires_us  BIGINT NOT NULL
);
CREATE INDEX console_sessions_user    ON console_sessions (username);
CREATE INDEX console_sessions_expires ON console_sessions (expires_us);

CREATE TABLE console_views (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username    TEXT NOT NULL,
	name        TEXT NOT NULL,
	query       TEXT NOT NULL,
	created_us  BIGINT NOT NULL,
	UNIQUE (username, name)
);

-- The audit page filters the event log by who and by what, newest first.
CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_kind  ON events (kind, id);

-- +goose Down
DROP INDEX events_kind;
DROP INDEX events_actor;
DROP TABLE console_views;
DROP TABLE console_sessions;
DROP TABLE console_users;
