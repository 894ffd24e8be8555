-- Issue #13: the outbox lists newest first, and `created_at` has whole seconds only, so
-- messages of one second came back in any order. Ties of `created_at` are broken by the
-- `rowid`, which SQLite gives every new row larger than any in the table; an index on
-- `created_at` ends with it. (PostgreSQL has no rowid: its tree adds a `seq` column.)
CREATE INDEX outbox_newest ON outbox (created_at);
