-- Security keys (WebAuthn): the registered credentials, and the ceremonies in progress.
-- Portable types as in 0001: TEXT ids, BIGINT unix seconds. (The SQLite tree has the same shape.)

-- One row per active security key (its method row holds the name, status and use).
CREATE TABLE webauthn_credentials (
    method_id     TEXT PRIMARY KEY NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- base64url, unpadded; one credential belongs to one account only.
    credential_id TEXT NOT NULL,
    -- webauthn-rs's Passkey as JSON: the public key, counter and flags. Nothing secret.
    passkey       TEXT NOT NULL,
    -- The authenticator model the key reported, if any.
    aaguid        TEXT,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX webauthn_credentials_credential_id ON webauthn_credentials (credential_id);
CREATE INDEX webauthn_credentials_account ON webauthn_credentials (account_id);

-- The challenge a browser was given and the state that checks its answer. Bound to what it
-- is for (a sign-in flow, a session's step-up, a reset flow, or a passkey ceremony's own id);
-- taken (deleted) when answered, so it is answered at most once.
CREATE TABLE webauthn_ceremonies (
    purpose    TEXT NOT NULL,
    binding    TEXT NOT NULL,
    -- The key asked; '' when the browser chooses (a passkey sign-in).
    method_id  TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (purpose, binding, method_id)
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
