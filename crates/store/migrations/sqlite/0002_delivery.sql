-- Sent challenges and the outbox (issue #3: phone and email methods, real delivery).
-- Portable types only, as in 0001: TEXT ids, BIGINT unix seconds, BLOB bytes.

-- One code sent by text, call or email, or a call that asks for #. Only an HMAC of the
-- code is kept, bound to the challenge id.
CREATE TABLE challenges (
    id           TEXT PRIMARY KEY NOT NULL,
    method_id    TEXT NOT NULL REFERENCES methods (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- sign_in, step_up, register or reset, and the id of what it is bound to.
    purpose      TEXT NOT NULL,
    binding      TEXT NOT NULL,
    channel      TEXT NOT NULL,
    -- NULL for a call answered with # instead of a code.
    code_mac     BLOB,
    status       TEXT NOT NULL,
    failures     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    resend_after BIGINT NOT NULL,
    -- No foreign key: messages are purged on their own schedule.
    message_id   TEXT
);
CREATE INDEX challenges_latest ON challenges (method_id, purpose, binding, created_at);
CREATE INDEX challenges_expiry ON challenges (expires_at);

-- Outgoing texts, calls and emails. A message commits with its challenge (or with the
-- change it announces); a worker claims due ones with a lease, so two nodes never send one
-- twice, and retries transient failures with back-off.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    account_id      TEXT,
    channel         TEXT NOT NULL,
    -- code or notification: only codes count against the sending limits.
    topic           TEXT NOT NULL,
    destination     TEXT NOT NULL,
    extension       TEXT,
    locale          TEXT NOT NULL,
    -- The sealed body; NULL once a gateway took it, or it failed for good.
    payload         BLOB,
    challenge_id    TEXT,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    note            TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_account ON outbox (account_id, topic, created_at);
CREATE INDEX outbox_destination ON outbox (destination, topic, created_at);
CREATE INDEX outbox_created ON outbox (topic, created_at);
