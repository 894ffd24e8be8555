-- Every session that ends (a sign-out, an admin ending it, a disabled account, the purge of
-- expired ones): the forward-auth check's cache on every node asks twice a second what
-- ended since it last asked, instead of re-reading each cached session (issue #16). A
-- trigger, so no way of deleting a session can forget it.
--
-- Transactions commit out of order, so a sequence number cannot say "since": each end
-- carries its transaction's id, and a reader that last asked under a snapshot whose oldest
-- running transaction was X asks next for the ends of transactions >= X. Every transaction
-- that committed after that snapshot has an id >= X.
CREATE TABLE session_ends (
    seq BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
    -- On the database's clock: only the purge of old rows reads it.
    ended_at BIGINT NOT NULL DEFAULT EXTRACT(EPOCH FROM now())::BIGINT
);
CREATE INDEX session_ends_xact ON session_ends (xact);
CREATE INDEX session_ends_ended_at ON session_ends (ended_at);

CREATE FUNCTION sessions_note_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO session_ends (session_id) VALUES (OLD.id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_note_end AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_note_end();
