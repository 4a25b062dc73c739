-- Security review (issue 11, point 8): the enterprise a cycle version concerns (the objection's,
-- or the corrected one's), so each viewer is shown the reasons and staff names of its own scope
-- only. Versions before this migration take it from their objection or correction batch.
ALTER TABLE cycle_versions ADD COLUMN uscc_id INTEGER REFERENCES usccs (id);
UPDATE cycle_versions SET uscc_id = COALESCE(
    (SELECT o.uscc_id FROM objections o WHERE o.id = cycle_versions.objection_id),
    (SELECT f.uscc_id FROM field_values f WHERE f.batch_id = cycle_versions.batch_id LIMIT 1),
    (SELECT h.uscc_id FROM value_history h WHERE h.batch_id = cycle_versions.batch_id LIMIT 1))
WHERE version > 1;
