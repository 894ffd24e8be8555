-- Issue #16: forward authentication for reverse proxies (docs/design/forward-auth.md).
-- Portable types only, as in 0001; the other tree has the same shape.

-- The admin's access rules; the lowest position matches first.
CREATE TABLE forward_auth_rules (
    id           TEXT PRIMARY KEY NOT NULL,
    position     BIGINT NOT NULL UNIQUE,
    -- JSON arrays of strings.
    domains      TEXT NOT NULL,
    paths        TEXT NOT NULL,
    allowed_groups TEXT NOT NULL,
    level        TEXT NOT NULL,
    max_age_secs BIGINT,
    created_at   BIGINT NOT NULL
);

-- The forward-auth cookie's token (SHA-256), which a protected site's domain sees instead
-- of the Tessera session's: it only answers the forward-auth endpoint, and ends with the
-- session.
CREATE TABLE forward_auth_sessions (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX forward_auth_sessions_session ON forward_auth_sessions (session_id);
