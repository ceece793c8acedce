-- Overdue lists page through open requests in id order (keyset) instead of
-- sorting every overdue request by id: an index of the open requests with a
-- due date, in id order, carrying the due date.
CREATE INDEX aco_requests_open_by_id ON aco_requests (id, due_at)
    WHERE due_at IS NOT NULL
      AND status IN ('SUBMITTED', 'CHANNEL_REVIEW', 'FINANCE_REVIEW', 'OPERATIONS_REVIEW', 'AWAITING_SIGNATURE');
-- Its only user was that filter, which sorted what it found.
DROP INDEX aco_requests_due;
