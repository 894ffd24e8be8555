-- The admin side (issue #7): temporary passwords, app passwords, imported hardware tokens,
-- service credentials for the verification API, and its shared rate windows.
-- Portable types only, as in 0001.

-- Accounts whose password an admin set: the person must choose a new one before anything else.
CREATE TABLE password_change_required (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    set_at     BIGINT NOT NULL
);

-- For legacy apps: only the Argon2id hash of the letters is kept.
CREATE TABLE app_passwords (
    id            TEXT PRIMARY KEY NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX app_passwords_account ON app_passwords (account_id, created_at);

-- Imported hardware OATH tokens: the serial is unique, the method holds the sealed seed.
CREATE TABLE hardware_tokens (
    serial       TEXT PRIMARY KEY NOT NULL,
    method_id    TEXT NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    manufacturer TEXT,
    model        TEXT,
    imported_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX hardware_tokens_method ON hardware_tokens (method_id);

-- API keys of services that call POST /api/v1/verify; only a SHA-256 of the key is kept.
CREATE TABLE service_credentials (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX service_credentials_token_hash ON service_credentials (token_hash);

-- Fixed one-minute windows of the verification API's budgets, shared by every node.
CREATE TABLE verify_rate_windows (
    key          TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- The admin's audit log reads by action and by time across every account.
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_at ON audit_events (at, seq);
-- Temporary access passes are purged by kind.
CREATE INDEX methods_kind_expiry ON methods (kind, expires_at);
