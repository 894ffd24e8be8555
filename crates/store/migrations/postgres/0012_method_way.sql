-- Issue #13: how a method asks first at sign-in, chosen with the default: `notification` or
-- `code` for an authenticator app, `text` or `call` for a mobile phone. NULL: the kind's
-- first way (a phone: what it was registered for).
ALTER TABLE methods ADD COLUMN way TEXT;
