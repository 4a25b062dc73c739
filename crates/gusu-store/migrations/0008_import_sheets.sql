-- An import batch is one file *and sheet*: a workbook with one sheet per district is several
-- batches, and sheet 2 is not "already imported" because sheet 1 was. `sheet` is NULL for text
-- files. The same file and sheet may now be imported again: the second import takes only the rows
-- not stored before (those refused the first time), so (kind, source, file_sha256) is no longer
-- unique. Rebuilt by the 12-step procedure, as in 0006.
CREATE TABLE import_batches_0008 (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('enterprises', 'annual', 'energy', 'metered_months')),
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
INSERT INTO import_batches_0008 (id, kind, source, file_name, sheet, file_sha256, imported_at,
        rows, inserted, corrected, unchanged, conflicts)
    SELECT id, kind, source, file_name, NULL, file_sha256, imported_at, rows, inserted, corrected,
        unchanged, conflicts
    FROM import_batches;
DROP TABLE import_batches;
ALTER TABLE import_batches_0008 RENAME TO import_batches;
CREATE INDEX import_batches_by_file ON import_batches (kind, source, file_sha256, sheet);
