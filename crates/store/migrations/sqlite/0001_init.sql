-- Tessera's first schema (SQLite). The PostgreSQL tree has the same numbering and shape.
-- Portable types only: TEXT uuids, BIGINT unix seconds, BIGINT 0/1 for flags, BLOB bytes.

CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY NOT NULL,
    username           TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    -- Lowercased in Rust: SQLite's lower() folds ASCII only, so search could not match
    -- "Émile" from "émile" on one database and match it on the other.
    display_name_lower TEXT NOT NULL,
    password_hash      TEXT NOT NULL,
    locale             TEXT,
    status             TEXT NOT NULL,
    is_admin           BIGINT NOT NULL DEFAULT 0,
    email              TEXT,
    -- No foreign key: methods already point at accounts, and a cycle would complicate every
    -- insert and delete. The store clears or moves it when it deletes the method.
    default_method_id  TEXT,
    created_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_username ON accounts (username);

CREATE TABLE methods (
    id            TEXT PRIMARY KEY NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    name          TEXT,
    data          TEXT NOT NULL,
    sealed_secret BLOB,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT,
    last_step     BIGINT,
    failures      BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT
);
CREATE INDEX methods_account ON methods (account_id, created_at, id);
CREATE INDEX methods_pending_expiry ON methods (expires_at) WHERE status = 'pending';

CREATE TABLE sign_in_flows (
    id         TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sign_in_flows_expiry ON sign_in_flows (expires_at);

CREATE TABLE sessions (
    id               TEXT PRIMARY KEY NOT NULL,
    token_hash       BLOB NOT NULL,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    -- No foreign key: flows are purged on their own schedule, sessions outlive them.
    flow_id          TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    last_seen_at     BIGINT NOT NULL,
    second_factor_at BIGINT
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Append-only. No foreign keys: the record of an account or method outlives it, and
-- attempts on unknown usernames have no account.
CREATE TABLE audit_events (
    -- Insertion order breaks ties between events of the same second.
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    at         BIGINT NOT NULL,
    account_id TEXT,
    action     TEXT NOT NULL,
    method_id  TEXT,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_events_id ON audit_events (id);
CREATE INDEX audit_events_account ON audit_events (account_id, at, seq);

-- Singletons, as JSON: key 'policy' holds the organization's policy.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
