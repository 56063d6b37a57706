-- cdrs: one row per call leg (see ARCHITECTURE.md, "Table cdrs").
-- Partitioned by the end of the leg (ts), which is what every list query
-- filters on; monthly partitions cdrs_pYYYYMM are created ahead by the
-- daemon (ensure_partitions), cdrs_default catches anything outside them.
CREATE TABLE cdrs (
    id               text        NOT NULL,
    ts               timestamptz NOT NULL,
    gregorian_ts     bigint      NOT NULL,
    account_id       text        NOT NULL,
    call_id          text        NOT NULL,
    started_at       timestamptz,
    answered_at      timestamptz,
    duration_seconds integer     NOT NULL DEFAULT 0,
    billing_seconds  integer     NOT NULL DEFAULT 0,
    ringing_seconds  integer     NOT NULL DEFAULT 0,
    call_direction   text,
    hangup_cause     text,
    hangup_code      text,
    billing_status   text,
    caller_id_number text,
    callee_id_number text,
    from_uri         text,
    to_uri           text,
    other_leg_call_id text,
    interaction_id   text,
    media_server     text,
    leg              text,
    source           text        NOT NULL,
    imported         boolean     NOT NULL DEFAULT false,
    received_at      timestamptz NOT NULL DEFAULT now(),
    -- jsonb: the read API can filter on any field of the record, not only
    -- the typed columns above. It is parsed once, on COPY into the writer's
    -- staging table; INSERT ... SELECT moves the binary value. Key order and
    -- whitespace are normalized, so the record is returned equal as JSON,
    -- not byte for byte. lz4 for the same reason as raw (measured in
    -- shared/notes/postgres-ingest.md: 13.4k -> 17.5k rows/s).
    record           jsonb       COMPRESSION lz4 NOT NULL,
    -- lz4 is several times cheaper than pglz on the ~2 KB documents.
    raw              text        COMPRESSION lz4,
    raw_format       text,
    PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE cdrs_default PARTITION OF cdrs DEFAULT;

CREATE INDEX cdrs_account_ts_id ON cdrs (account_id, ts, id);
CREATE INDEX cdrs_interaction_id ON cdrs (interaction_id);
CREATE INDEX cdrs_call_id ON cdrs (call_id);

-- Rows PostgreSQL refused (or that could not be decoded from the spool),
-- kept with the reason so nothing acknowledged is silently lost.
CREATE TABLE cdrs_quarantine (
    qid            bigserial   PRIMARY KEY,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    error          text        NOT NULL,
    record         text,       -- the canonical record as text: it may be invalid JSON
    raw            text        COMPRESSION lz4,
    raw_format     text,
    payload        bytea       -- the spool payload, when the text columns could not hold it
);
