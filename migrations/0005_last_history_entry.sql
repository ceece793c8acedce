-- Each request's newest history entry, kept by the database as entries are
-- appended: a list page reads its requests' last events by their row ids
-- instead of seeking the end of each request's range of the history index.
ALTER TABLE aco_requests ADD COLUMN last_history_id INTEGER REFERENCES aco_request_history (id);

UPDATE aco_requests SET last_history_id =
    (SELECT MAX(h.id) FROM aco_request_history h WHERE h.request_id = aco_requests.id);

CREATE TRIGGER aco_request_history_last AFTER INSERT ON aco_request_history
BEGIN
    UPDATE aco_requests SET last_history_id = NEW.id WHERE id = NEW.request_id;
END;
