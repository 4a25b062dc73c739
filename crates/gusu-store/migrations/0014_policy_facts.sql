-- The policy calculator's facts: designations (专精特新, 小巨人, 高新技术企业 …, with level and
-- dates) and projects (loans and investments). Both come in as import batches like every
-- department file (lineage: batch and row), so import_batches learns two kinds (rebuilt by the
-- 12-step procedure, as in 0008).
CREATE TABLE import_batches_0014 (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('enterprises', 'annual', 'energy', 'metered_months',
                                              'designations', 'projects')),
    source      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    sheet       TEXT,
    file_sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    rows        INTEGER NOT NULL DEFAULT 0,
    inserted    INTEGER NOT NULL DEFAULT 0,
    corrected   INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    conflicts   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO import_batches_0014 (id, kind, source, file_name, sheet, file_sha256, imported_at,
        rows, inserted, corrected, unchanged, conflicts)
    SELECT id, kind, source, file_name, sheet, file_sha256, imported_at, rows, inserted, corrected,
        unchanged, conflicts
    FROM import_batches;
DROP TABLE import_batches;
ALTER TABLE import_batches_0014 RENAME TO import_batches;
CREATE INDEX import_batches_by_file ON import_batches (kind, source, file_sha256, sheet);

-- One designation of an enterprise: the same (designation, level, recognised) again is the same
-- recognition (its expiry may be corrected).
CREATE TABLE designations (
    id          INTEGER PRIMARY KEY,
    uscc_id     INTEGER NOT NULL REFERENCES usccs (id),
    designation TEXT NOT NULL,
    level       TEXT NOT NULL,
    recognised  TEXT NOT NULL,
    expires     TEXT,
    batch_id    INTEGER NOT NULL REFERENCES import_batches (id),
    row         INTEGER NOT NULL,
    UNIQUE (uscc_id, designation, level, recognised)
);

-- A loan or investment project, by its id; a later file with the same id replaces its facts
-- (the batch and row say which file the stored facts came from). Blank facts are NULL.
CREATE TABLE projects (
    id                              INTEGER PRIMARY KEY,
    project_id                      TEXT NOT NULL UNIQUE,
    uscc_id                         INTEGER NOT NULL REFERENCES usccs (id),
    kind                            TEXT,
    date                            TEXT,
    loan_10k_yuan                   REAL,
    equipment_loan_10k_yuan         REAL,
    rate_over_lpr_bp                REAL,
    lpr_percent                     REAL,
    is_new                          INTEGER,
    fixed_asset_investment_10k_yuan REAL,
    equipment_investment_10k_yuan   REAL,
    catalogue_investment_10k_yuan   REAL,
    strategic_industry              INTEGER,
    first_time                      INTEGER,
    years_subsidised                REAL,
    batch_id                        INTEGER NOT NULL REFERENCES import_batches (id),
    row                             INTEGER NOT NULL
);
CREATE INDEX projects_by_enterprise ON projects (uscc_id);
CREATE INDEX designations_by_enterprise ON designations (uscc_id);
