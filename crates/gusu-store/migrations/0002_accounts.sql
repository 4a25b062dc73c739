-- Accounts and the audit log (issue 3: people and access).

CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL CHECK (role IN ('city_admin', 'city_analyst', 'district_officer',
                            'enterprise', 'system_admin', 'security_admin', 'audit_admin')),
    -- Scope: a district officer's district, an enterprise user's USCC (the core checks the pairing).
    district            TEXT,
    uscc                TEXT,
    -- An argon2id PHC string; a plain password is never stored.
    password_hash       TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    password_changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Append-only: who did what, when. Kept for good (at least the 180 days 等保 asks); no route and no
-- statement can change or remove an entry.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
