-- The partial indexes of ACO requests, their conditions written as comparisons.
-- SQLite evaluates a constant IN list of more than two values through a
-- temporary b-tree, built anew for the old and the new row of every write to
-- the table: four of them for each status change. Comparisons are evaluated
-- in place. The conditions are the same; queries that use these indexes repeat
-- them word for word (src/store/requests.rs).

-- ELIG-13: one unfinished request per customer.
DROP INDEX aco_requests_one_open_per_customer;
CREATE UNIQUE INDEX aco_requests_one_open_per_customer ON aco_requests (customer_id)
    WHERE status <> 'REJECTED' AND status <> 'CANCELLED' AND status <> 'ACTIVE'
      AND status <> 'EXHAUSTED' AND status <> 'LAPSED';

-- Open requests with a due date, in id order (the overdue list).
DROP INDEX aco_requests_open_by_id;
CREATE INDEX aco_requests_open_by_id ON aco_requests (id, due_at)
    WHERE due_at IS NOT NULL
      AND (status = 'SUBMITTED' OR status = 'CHANNEL_REVIEW' OR status = 'FINANCE_REVIEW'
           OR status = 'OPERATIONS_REVIEW' OR status = 'AWAITING_SIGNATURE');
