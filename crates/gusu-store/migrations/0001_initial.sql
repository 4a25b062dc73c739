-- gusu-store schema, version 1.
-- Forward-only: never edit this file once released; add 0002_*.sql instead.

-- Every USCC the store has seen (from an enterprises file, an annual file or a result). Other tables
-- refer to the small integer id, which keeps the large value tables and their indexes compact.
CREATE TABLE usccs (
    id   INTEGER PRIMARY KEY,
    uscc TEXT NOT NULL UNIQUE
);

-- Departments that send files (tax, stats, power, environment, land, bureau, ...).
CREATE TABLE sources (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- Fields of a yearly record: the numeric figures and the yes/no flags (stored as 1.0 / 0.0),
-- by interchange key. Ids are fixed here so that the rows stay meaningful across versions.
CREATE TABLE fields (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('figure', 'flag'))
);
INSERT INTO fields (id, key, kind) VALUES
    (1, 'revenue_10k_yuan', 'figure'),
    (2, 'main_revenue_10k_yuan', 'figure'),
    (3, 'tax_paid_10k_yuan', 'figure'),
    (4, 'value_added_10k_yuan', 'figure'),
    (5, 'energy_tce', 'figure'),
    (6, 'energy_tce_equivalent', 'figure'),
    (7, 'electricity_kwh', 'figure'),
    (8, 'cod_t', 'figure'),
    (9, 'ammonia_n_t', 'figure'),
    (10, 'so2_t', 'figure'),
    (11, 'nox_t', 'figure'),
    (12, 'rd_expense_10k_yuan', 'figure'),
    (13, 'employees', 'figure'),
    (14, 'land_area_mu', 'figure'),
    (15, 'above_scale', 'flag'),
    (16, 'exempt', 'flag');

-- One row per imported file. (kind, source, file_sha256) is unique: importing the same file again
-- is recognised before anything is written.
CREATE TABLE import_batches (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('enterprises', 'annual')),
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

-- The enterprise register: current attributes, with the batch and row that created and last
-- changed each enterprise. Never deleted by an import.
CREATE TABLE enterprises (
    uscc_id        INTEGER PRIMARY KEY REFERENCES usccs (id),
    name           TEXT NOT NULL,
    district       TEXT NOT NULL,
    industry_code  TEXT NOT NULL,
    division       TEXT NOT NULL,
    land_area_mu   REAL,
    above_scale    INTEGER NOT NULL CHECK (above_scale IN (0, 1)),
    established    TEXT NOT NULL,
    exempt         INTEGER NOT NULL CHECK (exempt IN (0, 1)),
    created_batch  INTEGER NOT NULL REFERENCES import_batches (id),
    created_row    INTEGER NOT NULL,
    updated_batch  INTEGER NOT NULL REFERENCES import_batches (id),
    updated_row    INTEGER NOT NULL
);

-- Every attribute change of an enterprise after it was first registered (values as text).
CREATE TABLE enterprise_history (
    id        INTEGER PRIMARY KEY,
    uscc_id   INTEGER NOT NULL REFERENCES enterprises (uscc_id),
    attribute TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    batch_id  INTEGER NOT NULL REFERENCES import_batches (id),
    row       INTEGER NOT NULL
);
CREATE INDEX enterprise_history_by_uscc ON enterprise_history (uscc_id);

-- The current value each source sent for a field of an enterprise and year, with its lineage.
-- The effective (merged) value is chosen from these rows at read time by the source priority.
-- The primary key order serves both "all values of one year" scans and per-enterprise look-ups.
CREATE TABLE field_values (
    year     INTEGER NOT NULL,
    uscc_id  INTEGER NOT NULL REFERENCES usccs (id),
    field_id INTEGER NOT NULL REFERENCES fields (id),
    source_id INTEGER NOT NULL REFERENCES sources (id),
    value    REAL NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES import_batches (id),
    row      INTEGER NOT NULL,
    PRIMARY KEY (year, uscc_id, field_id, source_id)
) WITHOUT ROWID;

-- Values a later file of the same source corrected: the old value with its own lineage, and the
-- batch that replaced it.
CREATE TABLE value_history (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    uscc_id       INTEGER NOT NULL REFERENCES usccs (id),
    field_id      INTEGER NOT NULL REFERENCES fields (id),
    source_id     INTEGER NOT NULL REFERENCES sources (id),
    value         REAL NOT NULL,
    batch_id      INTEGER NOT NULL REFERENCES import_batches (id),
    row           INTEGER NOT NULL,
    replaced_by   INTEGER NOT NULL REFERENCES import_batches (id)
);
CREATE INDEX value_history_by_key ON value_history (uscc_id, year);

-- Evaluation runs and their per-enterprise results.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    year           INTEGER NOT NULL,
    scheme         TEXT NOT NULL,
    scheme_version TEXT NOT NULL,
    region         TEXT,
    created_at     TEXT NOT NULL,
    published      INTEGER NOT NULL DEFAULT 0 CHECK (published IN (0, 1)),
    published_at   TEXT,
    enterprises    INTEGER NOT NULL
);
CREATE INDEX runs_by_year ON runs (year, id);

CREATE TABLE results (
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    seq         INTEGER NOT NULL,
    uscc_id     INTEGER NOT NULL REFERENCES usccs (id),
    grp         TEXT,
    status      TEXT NOT NULL,
    class       TEXT,
    score       REAL,
    rank        INTEGER,
    detail_json TEXT NOT NULL,
    PRIMARY KEY (run_id, seq),
    UNIQUE (run_id, uscc_id)
) WITHOUT ROWID;
CREATE INDEX results_by_uscc ON results (uscc_id);
