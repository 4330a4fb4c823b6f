-- Two-factor sign-in by a code sent as a text message: the verified phone
-- number, the one being verified, and the switch.

ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mfa_sms BOOLEAN NOT NULL DEFAULT FALSE;
