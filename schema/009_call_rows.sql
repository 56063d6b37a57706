-- The rows of the call-level dialects (issue 13): seed 001 and 002 list one
-- row per call, seed 004 one per routing attempt with an integer id.
--
-- call_root: the leg that stands for its call, as call assembly chooses it
-- (daemon/core/call_assembly.h: the earliest started leg that is not a
-- loopback half, ties by call_id). The writer sets it with the other
-- call-level fields and moves it when a late leg re-links a call.
ALTER TABLE cdrs ADD COLUMN call_root boolean NOT NULL DEFAULT false;

-- Rows stored before: the same choice, made once here. A leg without an
-- interaction_id is a call of its own.
UPDATE cdrs c SET call_root = true
FROM (
    SELECT DISTINCT ON (account_id, coalesce(interaction_id, call_id)) id, ts, account_id
    FROM cdrs
    WHERE NOT is_loopback
    ORDER BY account_id, coalesce(interaction_id, call_id), started_at NULLS LAST, call_id
) r
WHERE c.id = r.id AND c.ts = r.ts AND c.account_id = r.account_id;

-- One call per row in (account_id, ts, id) order: the list, the offset
-- pages and the bounded count of the call dialects walk this index alone.
CREATE INDEX cdrs_call_root ON cdrs (account_id, ts, id) WHERE call_root;

-- row_seq: a stable integer per row (JSON:API ids of seed 004). Given once
-- when a row is inserted; an upsert of the same leg keeps it.
CREATE SEQUENCE cdrs_row_seq;
ALTER TABLE cdrs ADD COLUMN row_seq bigint;
UPDATE cdrs c SET row_seq = n.seq
FROM (SELECT id, ts, account_id, nextval('cdrs_row_seq') AS seq
      FROM (SELECT id, ts, account_id FROM cdrs ORDER BY ts, id) o) n
WHERE c.id = n.id AND c.ts = n.ts AND c.account_id = n.account_id;
ALTER TABLE cdrs ALTER COLUMN row_seq SET DEFAULT nextval('cdrs_row_seq');
ALTER TABLE cdrs ALTER COLUMN row_seq SET NOT NULL;
CREATE INDEX cdrs_by_row_seq ON cdrs (row_seq);
