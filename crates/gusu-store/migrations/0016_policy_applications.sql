-- Applications for support policies delivered on application: the enterprise (or staff for it)
-- records the evidence the policy names and submits; the district recommends or returns; the
-- city grants, returns or rejects. The route is gusu-core's (route), shared with the
-- near-zero-carbon applications; these tables keep where each stands and every step.
CREATE TABLE policy_applications (
    id              INTEGER PRIMARY KEY,
    uscc_id         INTEGER NOT NULL REFERENCES usccs (id),
    policy_id       TEXT NOT NULL,
    -- '' for the enterprise's own decision.
    project_id      TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'recommended',
                        'returned', 'approved', 'rejected')),
    -- The evidence: each item the policy names, with the applicant's reference (JSON object).
    evidence        TEXT NOT NULL CHECK (json_valid(evidence)),
    -- The amount the calculator gave at the last step of the route.
    amount_10k_yuan REAL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (uscc_id, policy_id, project_id)
);

CREATE TABLE policy_application_events (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES policy_applications (id),
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT NOT NULL,
    reason         TEXT,
    -- Snapshots (JSON): the evidence when it changed; the decision on a route step.
    evidence       TEXT CHECK (evidence IS NULL OR json_valid(evidence)),
    decision       TEXT CHECK (decision IS NULL OR json_valid(decision))
);
CREATE INDEX policy_application_events_by_application ON policy_application_events (application_id, id);

CREATE TRIGGER policy_application_events_no_update BEFORE UPDATE ON policy_application_events
BEGIN
    SELECT RAISE(ABORT, 'policy_application_events is append-only');
END;
CREATE TRIGGER policy_application_events_no_delete BEFORE DELETE ON policy_application_events
BEGIN
    SELECT RAISE(ABORT, 'policy_application_events is append-only');
END;
