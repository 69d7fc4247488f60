-- Jobs, their log lines, API keys and instance metadata.
-- Times are Unix milliseconds in UTC.

CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- submission order
    id           TEXT    NOT NULL UNIQUE,
    domain       TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    lane         TEXT    NOT NULL,
    request      TEXT    NOT NULL,                   -- JSON; base64 inputs replaced by storage paths
    status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    priority     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    outputs      TEXT    NOT NULL DEFAULT '[]',      -- JSON list of paths relative to storage
    output_text  TEXT,
    inputs       TEXT    NOT NULL DEFAULT '[]',      -- JSON list of paths relative to storage
    progress     REAL    NOT NULL DEFAULT 0,
    key_id       TEXT,
    key_name     TEXT,
    user_id      TEXT    NOT NULL DEFAULT 'unknown',
    machine_id   TEXT    NOT NULL DEFAULT 'unknown',
    client_addr  TEXT
);

CREATE INDEX jobs_waiting ON jobs (lane, status, priority DESC, seq);
CREATE INDEX jobs_status ON jobs (status);
CREATE INDEX jobs_finished ON jobs (finished_at);

CREATE TABLE job_logs (
    line_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id   TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    line     TEXT NOT NULL
);

CREATE INDEX job_logs_job ON job_logs (job_id, line_id);

CREATE TABLE api_keys (
    key_id      TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    hash        TEXT    NOT NULL,  -- hex SHA-256 of secret followed by salt
    salt        TEXT    NOT NULL,  -- 16 random bytes, hex
    created_at  INTEGER NOT NULL
);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
