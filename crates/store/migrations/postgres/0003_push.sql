-- Authenticator apps activated for notifications (push with number matching), and the
-- requests sent to them. Portable types as in 0001: TEXT ids, BIGINT unix seconds, BIGINT
-- 0/1 flags, BYTEA bytes. (The SQLite tree has the same shape.)

-- The device behind an `authenticator_app` method. Deleting the method deletes the device,
-- and with it the credential: the device stops receiving requests at once.
CREATE TABLE push_devices (
    method_id             TEXT PRIMARY KEY NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    account_id            TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- SHA-256 of the one-time activation code, and the code sealed for showing again;
    -- both cleared when the device activates.
    activation_hash       BYTEA,
    sealed_activation     BYTEA,
    activation_expires_at BIGINT NOT NULL,
    activated_at          BIGINT,
    name                  TEXT,
    -- `ed25519` or `es256`, and the device's public key.
    algorithm             TEXT,
    public_key            BYTEA,
    -- SHA-256 of the device credential (a bearer secret only the device holds).
    credential_hash       BYTEA,
    -- Where to POST a content-free wake-up (UnifiedPush style), if the device asked.
    wakeup_url            TEXT
);
CREATE UNIQUE INDEX push_devices_activation ON push_devices (activation_hash);
CREATE UNIQUE INDEX push_devices_credential ON push_devices (credential_hash);
CREATE INDEX push_devices_account ON push_devices (account_id);

-- One notification: bound to what it is for (a sign-in flow, a session's step-up, a
-- registration, a reset flow), answered at most once (`status` moves from `pending` once).
CREATE TABLE push_requests (
    id          TEXT PRIMARY KEY NOT NULL,
    method_id   TEXT NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    binding     TEXT NOT NULL,
    number      BIGINT NOT NULL,
    status      TEXT NOT NULL,
    app         TEXT NOT NULL,
    ip          TEXT,
    user_agent  TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    answered_at BIGINT,
    -- 1 once a node has claimed sending the device's wake-up for it.
    woken       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX push_requests_device ON push_requests (method_id, status, expires_at);
CREATE INDEX push_requests_binding ON push_requests (purpose, binding, created_at);
CREATE INDEX push_requests_account ON push_requests (account_id, created_at);
