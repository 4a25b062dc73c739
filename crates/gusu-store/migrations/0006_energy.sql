-- Energy and carbon (issue 4): the enterprises' yearly energy lines from energy files, with the
-- same lineage as annual figures, and the metered monthly totals aggregated from the readings
-- dataset (so the web platform reads them without DataFusion).

-- import_batches learns two kinds: 'energy' (an energy file) and 'metered_months' (a set of
-- monthly totals). SQLite cannot change a CHECK in place: the table is rebuilt (the 12-step
-- procedure; migrate.rs runs migrations with foreign keys off and checks them before commit).
CREATE TABLE import_batches_0006 (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('enterprises', 'annual', 'energy', 'metered_months')),
    source      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    rows        INTEGER NOT NULL DEFAULT 0,
    inserted    INTEGER NOT NULL DEFAULT 0,
    corrected   INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    conflicts   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, source, file_sha256)
);
INSERT INTO import_batches_0006 (id, kind, source, file_name, file_sha256, imported_at, rows,
        inserted, corrected, unchanged, conflicts)
    SELECT id, kind, source, file_name, file_sha256, imported_at, rows, inserted, corrected,
        unchanged, conflicts
    FROM import_batches;
DROP TABLE import_batches;
ALTER TABLE import_batches_0006 RENAME TO import_batches;

-- The lines a source sent for an enterprise and year (one row per line of the file; several
-- lines of one carrier add up). A later file of the same source that names the enterprise and
-- year replaces that source's lines for it; the replaced lines go to energy_line_history.
CREATE TABLE energy_lines (
    id                 INTEGER PRIMARY KEY,
    year               INTEGER NOT NULL,
    uscc_id            INTEGER NOT NULL REFERENCES usccs (id),
    source_id          INTEGER NOT NULL REFERENCES sources (id),
    -- gusu_core::carbon::Carrier and Unit keys.
    carrier            TEXT NOT NULL,
    quantity           REAL NOT NULL CHECK (quantity >= 0),
    unit               TEXT NOT NULL,
    enthalpy_kj_per_kg REAL,
    temperature_c      REAL,
    batch_id           INTEGER NOT NULL REFERENCES import_batches (id),
    row                INTEGER NOT NULL
);
CREATE INDEX energy_lines_by_year ON energy_lines (year, uscc_id);
CREATE INDEX energy_lines_by_uscc ON energy_lines (uscc_id, year);

CREATE TABLE energy_line_history (
    id                 INTEGER PRIMARY KEY,
    year               INTEGER NOT NULL,
    uscc_id            INTEGER NOT NULL REFERENCES usccs (id),
    source_id          INTEGER NOT NULL REFERENCES sources (id),
    carrier            TEXT NOT NULL,
    quantity           REAL NOT NULL,
    unit               TEXT NOT NULL,
    enthalpy_kj_per_kg REAL,
    temperature_c      REAL,
    batch_id           INTEGER NOT NULL REFERENCES import_batches (id),
    row                INTEGER NOT NULL,
    replaced_by        INTEGER NOT NULL REFERENCES import_batches (id)
);
CREATE INDEX energy_line_history_by_key ON energy_line_history (uscc_id, year);

-- Metered totals per enterprise, carrier and month (the readings dataset's monthly aggregate),
-- in the dataset's stored unit. A new aggregate replaces a month's total; the batch says which.
CREATE TABLE metered_months (
    uscc_id  INTEGER NOT NULL REFERENCES usccs (id),
    carrier  TEXT NOT NULL,
    year     INTEGER NOT NULL,
    month    INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    total    REAL NOT NULL,
    unit     TEXT NOT NULL,
    readings INTEGER NOT NULL CHECK (readings >= 0),
    batch_id INTEGER NOT NULL REFERENCES import_batches (id),
    PRIMARY KEY (uscc_id, year, carrier, month)
) WITHOUT ROWID;
CREATE INDEX metered_months_by_year ON metered_months (year);
