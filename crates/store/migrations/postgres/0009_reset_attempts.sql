-- Issue #12: a password reset's own wrong-answer counters, so that a stranger's guesses at a
-- reset never lock the person's methods for sign-in (`methods.failures` and `locked_until`
-- are the sign-in's). One row per flow (`flow:<id>`) and per username (`user:<name>`, decoys
-- too), counted as a method's are: a failure reserved before the answer is checked, a lock
-- at the threshold. Portable types only, as in 0001; the other tree has the same shape.
CREATE TABLE reset_attempts (
    key          TEXT PRIMARY KEY NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT,
    -- With no attempt until then the count starts again; the row may then be purged.
    expires_at   BIGINT NOT NULL
);
CREATE INDEX reset_attempts_expiry ON reset_attempts (expires_at);
