-- Near-zero-carbon factory applications (issue 4, point 5): the enterprise (or staff for it)
-- records evidence, the district recommends or returns, the city certifies, returns or rejects.
-- The rules are gusu-core's (carbon::nzc_application); these tables keep where each application
-- stands and every step, with the evidence and the assessment as they were at that step.

CREATE TABLE nzc_applications (
    id          INTEGER PRIMARY KEY,
    uscc_id     INTEGER NOT NULL REFERENCES usccs (id),
    -- The criteria document's `name@version` (rules/nzc/*.toml).
    criteria    TEXT NOT NULL,
    year        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'recommended',
                    'returned', 'approved', 'rejected')),
    -- The evidence as gusu-core's `nzc::Evidence`, JSON.
    evidence    TEXT NOT NULL CHECK (json_valid(evidence)),
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (uscc_id, criteria, year)
);

-- Every step: opened, evidence saved, submitted, recommended, approved, returned, rejected.
-- Append-only, like the audit log.
CREATE TABLE nzc_events (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES nzc_applications (id),
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    reason         TEXT,
    -- Snapshots at this step (JSON): the evidence when it changed, the assessment on a route step.
    evidence       TEXT CHECK (evidence IS NULL OR json_valid(evidence)),
    assessment     TEXT CHECK (assessment IS NULL OR json_valid(assessment))
);
CREATE INDEX nzc_events_by_application ON nzc_events (application_id, id);

CREATE TRIGGER nzc_events_no_update BEFORE UPDATE ON nzc_events
BEGIN
    SELECT RAISE(ABORT, 'nzc_events is append-only');
END;
CREATE TRIGGER nzc_events_no_delete BEFORE DELETE ON nzc_events
BEGIN
    SELECT RAISE(ABORT, 'nzc_events is append-only');
END;
