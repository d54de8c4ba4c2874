-- The incident store, SQLite form. postgres/00001_incidents.sql is the
-- same schema; only identity columns and triggers are written differently.
-- Times are microseconds since the Unix epoch (UTC) in both dialects, so
-- that a keyset cursor means the same thing everywhere.

-- +goose Up
CREATE TABLE incidents (
	id             TEXT PRIMARY KEY,
	time_us        BIGINT NOT NULL,
	node           TEXT NOT NULL DEFAULT '',
	mta_host       TEXT NOT NULL DEFAULT '',
	frontend       TEXT NOT NULL DEFAULT '',
	session_id     TEXT NOT NULL DEFAULT '',
	queue_id       TEXT NOT NULL DEFAULT '',
	message_id     TEXT NOT NULL DEFAULT '',
	direction      TEXT NOT NULL DEFAULT '',
	sender         TEXT NOT NULL DEFAULT '',
	auth_user      TEXT NOT NULL DEFAULT '',
	client_addr    TEXT NOT NULL DEFAULT '',
	client_name    TEXT NOT NULL DEFAULT '',
	helo           TEXT NOT NULL DEFAULT '',
	subject        TEXT NOT NULL DEFAULT '',
	size           BIGINT NOT NULL DEFAULT 0,
	action         TEXT NOT NULL DEFAULT '',
	verdict_action TEXT NOT NULL DEFAULT '',
	would_action   TEXT NOT NULL DEFAULT '',
	severity       TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL DEFAULT 'new',
	assignee       TEXT NOT NULL DEFAULT '',
	updated_us     BIGINT NOT NULL,
	duration_us    BIGINT NOT NULL DEFAULT 0,
	error          TEXT NOT NULL DEFAULT '',
	detail         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incidents_time     ON incidents (time_us, id);
CREATE INDEX incidents_status   ON incidents (status, time_us, id);
CREATE INDEX incidents_severity ON incidents (severity, time_us, id);
CREATE INDEX incidents_action   ON incidents (action, time_us, id);
CREATE INDEX incidents_node     ON incidents (node, time_us, id);
CREATE INDEX incidents_sender   ON incidents (sender, time_us, id);
CREATE INDEX incidents_assignee ON incidents (assignee, time_us, id);
CREATE INDEX incidents_message  ON incidents (mta_host, queue_id);

CREATE TABLE incident_recipients (
	incident_id TEXT NOT NULL,
	pos         INTEGER NOT NULL,
	address     TEXT NOT NULL,
	action      TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (incident_id, pos)
);

-- One row per recipient domain of an incident, with the incident's time,
-- so that a domain filter walks an index in page order.
CREATE TABLE incident_domains (
	domain      TEXT NOT NULL,
	time_us     BIGINT NOT NULL,
	incident_id TEXT NOT NULL,
	PRIMARY KEY (domain, time_us, incident_id)
);
CREATE INDEX incident_domains_incident ON incident_domains (incident_id);

CREATE TABLE incident_policies (
	incident_id TEXT NOT NULL,
	name        TEXT NOT NULL,
	time_us     BIGINT NOT NULL,
	severity    TEXT NOT NULL DEFAULT '',
	mode        TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL DEFAULT '',
	enforced    INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (incident_id, name)
);
CREATE INDEX incident_policies_name ON incident_policies (name, time_us, incident_id);

-- The audit log. Rows are only ever inserted: the triggers refuse any
-- UPDATE or DELETE, whoever issues it.
CREATE TABLE events (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	time_us      BIGINT NOT NULL,
	incident_id  TEXT NOT NULL DEFAULT '',
	mta_host     TEXT NOT NULL DEFAULT '',
	queue_id     TEXT NOT NULL DEFAULT '',
	request_id   BIGINT NOT NULL DEFAULT 0,
	actor        TEXT NOT NULL,
	source_addr  TEXT NOT NULL DEFAULT '',
	kind         TEXT NOT NULL,
	before_value TEXT NOT NULL DEFAULT '',
	after_value  TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_incident ON events (incident_id, id);
CREATE INDEX events_message  ON events (mta_host, queue_id, id);

-- +goose StatementBegin
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
-- +goose StatementEnd

-- A message held by an MTA, named by (MTA host, queue id).
CREATE TABLE quarantine (
	mta_host    TEXT NOT NULL,
	queue_id    TEXT NOT NULL,
	incident_id TEXT NOT NULL DEFAULT '',
	node        TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,
	held_us     BIGINT NOT NULL,
	updated_us  BIGINT NOT NULL,
	PRIMARY KEY (mta_host, queue_id)
);
CREATE INDEX quarantine_incident ON quarantine (incident_id);
CREATE INDEX quarantine_state    ON quarantine (state, held_us);

-- A release or delete asked for; the node whose MTA holds the message
-- claims and executes it.
CREATE TABLE requests (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	kind        TEXT NOT NULL CHECK (kind IN ('release', 'delete')),
	node        TEXT NOT NULL,
	mta_host    TEXT NOT NULL,
	queue_id    TEXT NOT NULL,
	reason      TEXT NOT NULL,
	actor       TEXT NOT NULL,
	source_addr TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL DEFAULT 'pending',
	result      TEXT NOT NULL DEFAULT '',
	created_us  BIGINT NOT NULL,
	claimed_us  BIGINT NOT NULL DEFAULT 0,
	done_us     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX requests_node_state ON requests (node, state, id);
CREATE INDEX requests_message    ON requests (mta_host, queue_id, id);

-- +goose Down
DROP TABLE requests;
DROP TABLE quarantine;
DROP TABLE events;
DROP TABLE incident_policies;
DROP TABLE incident_domains;
DROP TABLE incident_recipients;
DROP TABLE incidents;
