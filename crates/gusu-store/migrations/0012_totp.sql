-- Security review (issue 11, point 8): a TOTP second factor (RFC 6238) for the administrator
-- roles. The shared secret (raw bytes) and the last time step a code was accepted for, so a code
-- is never taken twice.
ALTER TABLE accounts ADD COLUMN totp_secret BLOB;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER;
