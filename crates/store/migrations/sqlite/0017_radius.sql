-- Issue #18: RADIUS clients (docs/design/radius.md). Portable types only, as in 0001; the
-- other tree has the same shape. An exchange's challenge state is a sign-in flow (flows).

CREATE TABLE radius_clients (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    -- An address or a CIDR network, as the admin typed it (normalized).
    network      TEXT NOT NULL,
    -- The shared secret, sealed with the key ring (AAD radius_clients/secret/id): it must be
    -- read back to check and sign packets.
    secret       BLOB NOT NULL,
    -- 1: requests without a valid Message-Authenticator are refused (BlastRADIUS).
    require_message_authenticator BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
