-- Every session that ends (a sign-out, an admin ending it, a disabled account, the purge of
-- expired ones), in the order the ends committed: the forward-auth check's cache on every
-- node asks twice a second what ended since it last asked, instead of re-reading each
-- cached session (issue #16). A trigger, so no way of deleting a session can forget it.
-- SQLite commits one writer at a time, so `seq` is also the order ends become visible.
CREATE TABLE session_ends (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    -- On the database's clock: only the purge of old rows reads it.
    ended_at BIGINT NOT NULL
);
CREATE INDEX session_ends_ended_at ON session_ends (ended_at);

CREATE TRIGGER sessions_note_end AFTER DELETE ON sessions
BEGIN
    INSERT INTO session_ends (session_id, ended_at) VALUES (OLD.id, unixepoch());
END;
