-- Security review (issue 11, point 8): an API token lives for a set number of days. Tokens made
-- before this migration get 90 days from when they were made (the CLI's default for new ones).
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+90 days');
