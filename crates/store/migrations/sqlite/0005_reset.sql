-- Self-service password reset, security questions, recovery codes and the policy's
-- registration skips (issue #6). Portable types only, as in 0001; the PostgreSQL tree has
-- the same shape.

-- A reset in progress. `account_id` is NULL for a decoy (an unknown username, or an account
-- that cannot reset): its gates derive from `username` and never pass.
CREATE TABLE reset_flows (
    id              TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT REFERENCES accounts (id) ON DELETE CASCADE,
    username        TEXT NOT NULL,
    gates_required  BIGINT NOT NULL,
    -- The methods proven, in order; a second gate must be another method.
    first_gate      TEXT,
    second_gate     TEXT,
    -- The security questions asked (a JSON array of ids), and of which method.
    asked_method    TEXT,
    asked_questions TEXT,
    state           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX reset_flows_account ON reset_flows (account_id, state);
CREATE INDEX reset_flows_expiry ON reset_flows (expires_at);

-- Fixed-window counters shared by every node: reset attempts per IP and per username, and
-- the wrong tries on decoy gates.
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX rate_counters_end ON rate_counters (window_end);

-- Security questions an admin added; texts as a JSON object of language → text. Retired
-- ones stay, for the people who answered them.
CREATE TABLE security_questions (
    id         TEXT PRIMARY KEY NOT NULL,
    texts      TEXT NOT NULL,
    retired    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- How often a person skipped the registration interrupt.
CREATE TABLE registration_skips (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    skips      BIGINT NOT NULL
);
