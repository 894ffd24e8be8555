-- Web Push (RFC 8030) to the authenticator web app: the server's VAPID key (RFC 8292), and
-- each device's push subscription. (The PostgreSQL tree has the same shape.)

-- Key pairs the server makes for itself, one row per use (`vapid`). The first node to start
-- inserts (ON CONFLICT DO NOTHING) and every node reads the row back, so all sign alike. The
-- private half is sealed under the key ring (AAD server_keys/private_key/<name>).
CREATE TABLE server_keys (
    name           TEXT PRIMARY KEY NOT NULL,
    sealed_private BLOB NOT NULL,
    public_key     BLOB NOT NULL,
    created_at     BIGINT NOT NULL
);

-- A device's subscription lives on its row, so it goes with the device; a device has one
-- wake-up path, this or wakeup_url. The keys are not sealed: they only let someone encrypt to
-- the device, and the push service takes messages only when signed with the VAPID key.
ALTER TABLE push_devices ADD COLUMN webpush_endpoint TEXT;
ALTER TABLE push_devices ADD COLUMN webpush_p256dh BLOB;
ALTER TABLE push_devices ADD COLUMN webpush_auth BLOB;

-- push_requests.woken, for a device with a subscription: 0 not sent, 1 sent by one node,
-- 2 the message that closes it (answered or replaced) sent too.
