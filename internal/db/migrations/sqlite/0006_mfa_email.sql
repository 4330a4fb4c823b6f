-- Two-factor sign-in by a code sent to the account's email address (the
-- codes live in account_tokens, hashed and bound to the user).

ALTER TABLE users ADD COLUMN mfa_email BOOLEAN NOT NULL DEFAULT FALSE;
