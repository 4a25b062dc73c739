-- The policy calculator's workflow: drafts and their publication, the notices pushed to the
-- enterprises that newly qualify, and the confirmed lists of automatic (免申即享) policies.

-- A policy document as staff wrote it. Published once: the published text joins the library
-- (over the shipped one of the same id); every text stays.
CREATE TABLE policy_drafts (
    id           INTEGER PRIMARY KEY,
    policy_id    TEXT NOT NULL,
    text         TEXT NOT NULL,
    author       TEXT NOT NULL,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    published_at TEXT,
    published_by TEXT
);
CREATE INDEX policy_drafts_published ON policy_drafts (published_at);

-- A policy an enterprise qualifies for, pushed to its inbox once per policy, project (''
-- for the enterprise's own decision) and version.
CREATE TABLE policy_notices (
    id              INTEGER PRIMARY KEY,
    uscc_id         INTEGER NOT NULL REFERENCES usccs (id),
    policy_id       TEXT NOT NULL,
    project_id      TEXT NOT NULL DEFAULT '',
    version         TEXT NOT NULL,
    amount_10k_yuan REAL,
    cause           TEXT NOT NULL CHECK (cause IN ('published', 'facts')),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    read_at         TEXT,
    UNIQUE (uscc_id, policy_id, project_id, version)
);
CREATE INDEX policy_notices_by_policy ON policy_notices (policy_id);

-- The bureau's confirmation of an automatic policy's computed list for a date: each
-- confirmation is a new version (seq) of the list, kept whole.
CREATE TABLE policy_lists (
    id              INTEGER PRIMARY KEY,
    policy_id       TEXT NOT NULL,
    date            TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    rows_json       TEXT NOT NULL,
    rows            INTEGER NOT NULL,
    total_10k_yuan  REAL NOT NULL,
    confirmed_by    TEXT NOT NULL,
    confirmed_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (policy_id, date, seq)
);
