-- The key of a leg becomes (id, ts, account_id). POST /ingest/cdr may import
-- account A's records into account B with their ids unchanged (an export of
-- A re-imported as B): under (id, ts) B's copy would collide with A's row and,
-- import outranking esl, could rewrite it. With the account in the key B gets
-- rows of its own and A's are never touched. Every source derives the account
-- of a leg from the same channel variables, so the same leg received over ESL
-- and over mod_json_cdr/mod_xml_cdr still collides and is one row.
-- On the partitioned table both statements reach every partition (PostgreSQL
-- 11+); the key must hold the partition column ts, and it does.
ALTER TABLE cdrs DROP CONSTRAINT cdrs_pkey;
ALTER TABLE cdrs ADD PRIMARY KEY (id, ts, account_id);
