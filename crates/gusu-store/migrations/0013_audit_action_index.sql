-- The import batches' uploaders are read from the audit log's `import` entries; without an index
-- that read scanned the whole log, which grows by one entry per audited bulk read (a busy API
-- made /api/v1/imports 50 times slower within minutes; BENCHMARKS.md).
CREATE INDEX audit_log_by_action ON audit_log (action, target);
