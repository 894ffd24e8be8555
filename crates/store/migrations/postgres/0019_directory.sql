-- Accounts from the organization's directory (issue #19, docs/design/directory.md): where an
-- account comes from ('local' or 'directory'), the directory's own id for the entry
-- (entryUUID, objectGUID, ipaUniqueID), so a renamed person stays one account, and when a
-- sign-in or a sync last saw the entry.
ALTER TABLE accounts ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE accounts ADD COLUMN external_id TEXT;
ALTER TABLE accounts ADD COLUMN directory_seen_at BIGINT;
CREATE UNIQUE INDEX accounts_external_id ON accounts (external_id) WHERE external_id IS NOT NULL;

-- The directory groups an account was in when a sign-in or a sync last read them: the groups
-- that policy, access rules, OIDC claims, forward-auth headers and RADIUS can name.
CREATE TABLE account_groups (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE INDEX account_groups_name ON account_groups (name);
