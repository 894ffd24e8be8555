-- Issue #12: the session that registered a method. A registration session (password only)
-- completes with methods it registered itself, never with one another session registered.
-- No foreign key: sessions are purged on their own schedule, and a method outlives the
-- session that registered it.
ALTER TABLE methods ADD COLUMN registered_by TEXT;
