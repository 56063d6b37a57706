-- is_loopback: the leg is one internal half of a FreeSWITCH loopback/ pair.
-- A typed column so billing and the legs/interaction queries can skip those
-- halves without reading the record. A constant default adds the column
-- without rewriting the table (PostgreSQL 11+), and on the partitioned
-- parent it reaches every partition.
-- No index: the queries that filter on it select by interaction_id or by
-- (account_id, ts) first, which their indexes already narrow to a handful
-- of rows per call.
ALTER TABLE cdrs ADD COLUMN is_loopback boolean NOT NULL DEFAULT false;
