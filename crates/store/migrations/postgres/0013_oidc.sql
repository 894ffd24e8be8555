-- Issue #15: Tessera as an OpenID Connect provider (docs/design/oidc.md). Portable types
-- only, as in 0001; the other tree has the same shape. Secrets a client or person holds
-- (client secrets, codes, tokens) are kept as SHA-256 only.
CREATE TABLE oidc_clients (
    client_id                 TEXT PRIMARY KEY NOT NULL,
    name                      TEXT NOT NULL,
    -- NULL for a public client (PKCE instead).
    secret_hash               BYTEA,
    -- JSON arrays of strings.
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    backchannel_logout_uri    TEXT,
    first_party               BIGINT NOT NULL,
    requirement               TEXT NOT NULL,
    offline_access            BIGINT NOT NULL,
    id_token_alg              TEXT NOT NULL,
    created_at                BIGINT NOT NULL
);

CREATE TABLE oidc_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    alg         TEXT NOT NULL,
    -- Sealed under the key ring, AAD oidc_keys/private_key/<kid>.
    private_key BYTEA NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

-- An authorization request waiting for the person to sign in, on any node.
CREATE TABLE oidc_requests (
    id         TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    -- The checked request as JSON.
    request    TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_requests_expiry ON oidc_requests (expires_at);

-- One per code exchange; revoked as a whole when a used code or refresh token comes back.
CREATE TABLE oidc_families (
    id         TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    scope      TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    -- JSON array of RFC 8176 values.
    amr        TEXT NOT NULL,
    acr        TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oidc_families_owner ON oidc_families (account_id, client_id);

CREATE TABLE oidc_codes (
    code_hash      BYTEA PRIMARY KEY NOT NULL,
    client_id      TEXT NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    scope          TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL,
    acr            TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    -- Set by the one UPDATE that uses the code, with the family it creates.
    used_at        BIGINT,
    family_id      TEXT
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

CREATE TABLE oidc_tokens (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    family_id  TEXT NOT NULL REFERENCES oidc_families (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- A refresh token is used once.
    used_at    BIGINT
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family_id);
CREATE INDEX oidc_tokens_expiry ON oidc_tokens (expires_at);

CREATE TABLE oidc_consents (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
