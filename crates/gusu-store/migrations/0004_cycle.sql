-- The evaluation cycle (issue 3, point 4): a run of the city or a district moves draft → data
-- confirmation → public notice → review of objections → published. The rules are gusu-core's
-- (cycle.rs); these tables keep where each cycle stands and everything said in it.

-- One cycle per evaluation of a year, scheme and region. `run_id` is the current version's run;
-- every version stays in cycle_versions (and its run in runs) and can be read.
CREATE TABLE cycles (
    id                INTEGER PRIMARY KEY,
    year              INTEGER NOT NULL,
    scheme            TEXT NOT NULL,
    region            TEXT,
    stage             TEXT NOT NULL CHECK (stage IN ('draft', 'data_confirmation',
                          'public_notice', 'review', 'published')),
    -- The notice period's length, from the setting in force when the cycle was started.
    notice_days       INTEGER NOT NULL CHECK (notice_days >= 0),
    notice_started_at TEXT,
    run_id            INTEGER NOT NULL REFERENCES runs (id),
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    published_at      TEXT
);

-- Each evaluation of a cycle: version 1 when started, one more for every accepted objection that
-- changed data and every correction, with its reason and what caused it.
CREATE TABLE cycle_versions (
    cycle_id     INTEGER NOT NULL REFERENCES cycles (id),
    version      INTEGER NOT NULL CHECK (version >= 1),
    run_id       INTEGER NOT NULL UNIQUE REFERENCES runs (id),
    reason       TEXT NOT NULL,
    -- The correction import that led to this version (none for version 1).
    batch_id     INTEGER REFERENCES import_batches (id),
    objection_id INTEGER REFERENCES objections (id),
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (cycle_id, version)
);

-- An enterprise's answer in data confirmation: its figures are right, or flagged with a message.
-- The latest answer counts.
CREATE TABLE cycle_confirmations (
    cycle_id   INTEGER NOT NULL REFERENCES cycles (id),
    uscc_id    INTEGER NOT NULL REFERENCES usccs (id),
    status     TEXT NOT NULL CHECK (status IN ('confirmed', 'flagged')),
    message    TEXT,
    answered_by TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (cycle_id, uscc_id)
);

-- 异议: filed by an enterprise during the notice, decided once by staff with a reason.
CREATE TABLE objections (
    id              INTEGER PRIMARY KEY,
    cycle_id        INTEGER NOT NULL REFERENCES cycles (id),
    uscc_id         INTEGER NOT NULL REFERENCES usccs (id),
    -- The version on notice when it was filed.
    version         INTEGER NOT NULL,
    reasons         TEXT NOT NULL CHECK (length(trim(reasons)) > 0),
    filed_by        TEXT NOT NULL,
    filed_at        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'accepted', 'rejected')),
    decision_reason TEXT,
    decided_by      TEXT,
    decided_at      TEXT,
    -- The correction import an accepted objection wrote (source `objection`).
    batch_id        INTEGER REFERENCES import_batches (id),
    CHECK ((status = 'pending') = (decided_by IS NULL))
);
CREATE INDEX objections_by_cycle ON objections (cycle_id, id);

-- The values an objection proposes (interchange field keys; flags as 1 / 0).
CREATE TABLE objection_corrections (
    objection_id INTEGER NOT NULL REFERENCES objections (id),
    field        TEXT NOT NULL,
    value        REAL NOT NULL,
    PRIMARY KEY (objection_id, field)
);

-- What an enterprise attached, described only: the content is not kept here.
CREATE TABLE objection_attachments (
    id           INTEGER PRIMARY KEY,
    objection_id INTEGER NOT NULL REFERENCES objections (id),
    file_name    TEXT NOT NULL CHECK (length(trim(file_name)) > 0),
    media_type   TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64)
);

-- 结果通知书: one per enterprise per published version.
CREATE TABLE result_notices (
    id         INTEGER PRIMARY KEY,
    cycle_id   INTEGER NOT NULL REFERENCES cycles (id),
    version    INTEGER NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    uscc_id    INTEGER NOT NULL REFERENCES usccs (id),
    created_at TEXT NOT NULL,
    read_at    TEXT,
    UNIQUE (run_id, uscc_id)
);
CREATE INDEX result_notices_by_uscc ON result_notices (uscc_id, id);
