-- Deadlines become the first instant at which they have passed (AGR-4,
-- FLOW-11, FLOW-19): 00:00 of the day after the last day allowed, instead of
-- that day's last whole second. Every stored deadline was such a last second
-- (23:59:59 in the programme time zone): one second later is the new value.
UPDATE aco_agreements
   SET expires_at = strftime('%Y-%m-%dT%H:%M:%S', expires_at, '+1 second') || '.000000Z'
 WHERE expires_at LIKE '%:59.000000Z';

UPDATE aco_requests
   SET due_at = strftime('%Y-%m-%dT%H:%M:%S', due_at, '+1 second') || '.000000Z'
 WHERE due_at LIKE '%:59.000000Z';

-- An entry recorded after its instant (an expiry found after its deadline is
-- recorded at the deadline) says when it was written; NULL when written at `at`.
ALTER TABLE aco_request_history ADD COLUMN recorded_at TEXT;
