-- Issue #12: the per-account limit on password guesses (see core's `password_guesses`).
-- One row per typed username that has failed lately, known or not, keyed by a keyed hash of
-- the normalized name, so the table names nobody. Portable types only, as in 0001.
CREATE TABLE password_guesses (
    username_key BLOB PRIMARY KEY NOT NULL,
    -- Failures in a row, each counted before its password was checked.
    failures     BIGINT NOT NULL,
    -- The wait the last failure earned (it doubles), and when the next guess may be checked.
    wait_secs    BIGINT NOT NULL,
    next_at      BIGINT NOT NULL,
    -- The last counted guess: a count this old starts again, and is purged.
    last_at      BIGINT NOT NULL
);
CREATE INDEX password_guesses_last_at ON password_guesses (last_at);
