-- Synthetic CDRs for the read-API benchmark (bench/README.md, "Read API
-- benchmark"). cdrd_api_bench_load runs this file, then inserts the rows
-- chunk by chunk; cdrd_api_bench asks the same functions for the ids and
-- accounts it requests, so the data set is defined in this one place.
--
-- Row n (0-based) of a load is a pure function of n and the load's
-- parameters: re-running a chunk produces the same rows, which is what makes
-- the load resumable. Rows come in call order: row 2k is the A-leg of call k,
-- row 2k+1 its B-leg, and call k ends at
--   window_start + 1 s + (k + u) * (window_end - window_start - 2 s) / calls   (0 <= u < 1),
-- so the table fills in time order, as live ingest fills it.

-- The bench's record of what is loaded: the parameters (one row) and the
-- row ranges committed so far. A load with other parameters, or made by
-- another version of this file, is refused unless --truncate starts it over.
CREATE TABLE IF NOT EXISTS cdrd_bench_load (
    one          boolean     PRIMARY KEY DEFAULT true CHECK (one),
    total_rows   bigint      NOT NULL,
    accounts     integer     NOT NULL,
    skew         float8      NOT NULL,
    seed         bigint      NOT NULL,
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    sql_md5      text        NOT NULL,  -- of this file, when the load began
    finished_at  timestamptz  -- every row loaded, then VACUUM (ANALYZE)
);
CREATE TABLE IF NOT EXISTS cdrd_bench_chunks (
    first_n   bigint      PRIMARY KEY,
    last_n    bigint      NOT NULL,  -- exclusive
    seconds   float8      NOT NULL,  -- the chunk's INSERT
    loaded_at timestamptz NOT NULL DEFAULT now()
);

-- Account i (0-based) of the data set: a 32-hex id, as Kazoo's account ids are.
CREATE OR REPLACE FUNCTION cdrd_bench_account_id(i integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5('cdrd-bench-account-' || i) $$;

-- Index (0-based) of the account of a call drawn with uniform u in [0, 1).
-- skew = 0: uniform. skew = s > 0: zipf-ish, the inverse CDF of a
-- continuous power law x^-s on [1, accounts + 1), so account 0 is the
-- biggest and the share falls off as (i + 1)^-s.
CREATE OR REPLACE FUNCTION cdrd_bench_account_index(u float8, accounts integer, skew float8) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT least(accounts - 1, CASE
    WHEN skew = 0 THEN floor(u * accounts)
    WHEN skew = 1 THEN floor(power(accounts + 1.0, u)) - 1
    ELSE floor(power(1 + u * (power(accounts + 1.0, 1 - skew) - 1), 1 / (1 - skew))) - 1
  END)::integer
$$;

-- Gregorian seconds <-> timestamptz helpers of the records.
CREATE OR REPLACE FUNCTION cdrd_bench_iso(us bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT to_char((timestamptz 'epoch' + us * interval '1 microsecond') AT TIME ZONE 'UTC',
                 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- The canonical records (ARCHITECTURE.md, "Canonical record") of rows
-- [first_n, last_n) of a load. One SELECT in a non-strict SQL function, so
-- PostgreSQL inlines it into the caller's query and streams the rows instead
-- of materializing a chunk. Each step ends in OFFSET 0: without it the
-- planner flattens the steps and re-evaluates a column's expression at every
-- use (md5s, number formatting), which made generation 10x slower.
CREATE OR REPLACE FUNCTION cdrd_bench_records(first_n bigint, last_n bigint, total_rows bigint, accounts integer,
                                              skew float8, seed bigint, window_start timestamptz,
                                              window_end timestamptz)
RETURNS TABLE (n bigint, record jsonb)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
WITH legs AS (
  SELECT g AS n, g / 2 AS k, g % 2 = 1 AS b_leg,
         md5(seed || ':draw:' || (g / 2)) AS h1,
         md5(seed || ':more:' || (g / 2)) AS h2,
         md5(seed || ':A:' || (g / 2))::uuid::text AS a_uuid,
         md5(seed || ':B:' || (g / 2))::uuid::text AS b_uuid
  FROM generate_series(first_n, last_n - 1) AS g
  OFFSET 0
),
draws AS (
  -- Per call: eight independent uniforms in [0, 1) from the two hashes.
  SELECT l.*,
         ('x' || substr(h1, 1, 8))::bit(32)::bigint / 4294967296.0 AS u_account,
         ('x' || substr(h1, 9, 8))::bit(32)::bigint / 4294967296.0 AS u_status,
         ('x' || substr(h1, 17, 8))::bit(32)::bigint / 4294967296.0 AS u_talk,
         ('x' || substr(h1, 25, 8))::bit(32)::bigint / 4294967296.0 AS u_ring,
         ('x' || substr(h2, 1, 8))::bit(32)::bigint / 4294967296.0 AS u_slot,
         ('x' || substr(h2, 9, 8))::bit(32)::bigint AS r_caller,
         ('x' || substr(h2, 17, 8))::bit(32)::bigint AS r_callee,
         ('x' || substr(h2, 25, 8))::bit(32)::bigint AS r_misc,
         extract(epoch FROM window_start)::bigint * 1000000 AS start_us,
         (extract(epoch FROM window_end - window_start) * 1000000)::float8 AS span_us,
         (total_rows + 1) / 2 AS calls
  FROM legs l
  OFFSET 0
),
call AS (
  SELECT d.*,
         cdrd_bench_account_index(u_account, accounts, skew) AS account_index,
         CASE WHEN u_status < 0.70 THEN 'answered'
              WHEN u_status < 0.80 THEN 'noanswer'
              WHEN u_status < 0.88 THEN 'busy'
              ELSE 'failed' END AS status,
         -- How the call ended, by status: cause, SIP code, disposition.
         (ARRAY['CALL_REJECTED', 'NO_ROUTE_DESTINATION', 'UNALLOCATED_NUMBER', 'NORMAL_TEMPORARY_FAILURE',
                'RECOVERY_ON_TIMER_EXPIRE'])[1 + r_misc % 5] AS failed_cause,
         (ARRAY['603', '404', '404', '503', '408'])[1 + r_misc % 5] AS failed_code,
         -- 1 s kept free at both ends, so the B-leg (ending 20 ms before
         -- the A-leg) stays inside the window too.
         d.start_us + 1000000 + floor((d.k + d.u_slot) * (d.span_us - 2000000) / d.calls)::bigint AS end_us
  FROM draws d
  OFFSET 0
),
timing AS (
  -- Microsecond timeline of the A-leg; the B-leg starts 150 ms later and
  -- ends 20 ms earlier. Talk time is exponential with a mean of 150 s.
  SELECT c.*,
         CASE c.status WHEN 'answered' THEN floor(u_ring * 20)
                       WHEN 'noanswer' THEN 15 + floor(u_ring * 30)
                       ELSE floor(u_ring * 3) END::bigint * 1000000 + 300000 AS ring_us,
         CASE WHEN c.status = 'answered'
              THEN least(14400000000, floor(-ln(1 - u_talk) * 150000000)::bigint + 500000)
              ELSE 0 END AS talk_us
  FROM call c
  OFFSET 0
),
leg AS (
  SELECT t.*,
         cdrd_bench_account_id(t.account_index) AS account_id,
         'acct' || t.account_index || '.sip.bench.example' AS realm,
         '+1' || (200 + r_caller % 800) || lpad((r_caller / 800 % 10000000)::text, 7, '0') AS caller_number,
         '+1' || (200 + r_callee % 800) || lpad((r_callee / 800 % 10000000)::text, 7, '0') AS callee_number,
         (ARRAY['Alice', 'Bruno', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas'])
             [1 + r_caller % 10] || ' ' ||
         (ARRAY['Smith', 'Garcia', 'Kowalski', 'Nguyen', 'Okafor', 'Rossi', 'Silva', 'Tanaka'])
             [1 + r_caller / 10 % 8] AS caller_name,
         1 + r_misc % 8 AS server,
         CASE WHEN b_leg THEN b_uuid ELSE a_uuid END AS call_id,
         CASE WHEN b_leg THEN a_uuid ELSE b_uuid END AS other_call_id,
         end_us - ring_us - talk_us + CASE WHEN b_leg THEN 150000 ELSE 0 END AS leg_start_us,
         CASE WHEN talk_us > 0 THEN end_us - talk_us END AS answer_us,
         end_us - CASE WHEN b_leg THEN 20000 ELSE 0 END AS leg_end_us
  FROM timing t
  OFFSET 0
),
sdp AS (
  SELECT l.*,
         '10.20.0.' || l.server AS server_ip,
         CASE WHEN r_callee % 2 = 0 THEN '198.51.100.' ELSE '203.0.113.' END || (1 + r_callee / 2 % 250) AS peer_ip,
         16384 + (r_caller % 16000) * 2 AS local_port,
         10000 + (r_callee % 10000) * 2 AS peer_port,
         CASE status WHEN 'answered' THEN 'NORMAL_CLEARING' WHEN 'busy' THEN 'USER_BUSY'
                     WHEN 'noanswer' THEN CASE WHEN r_misc % 2 = 0 THEN 'NO_ANSWER' ELSE 'ORIGINATOR_CANCEL' END
                     ELSE failed_cause END AS hangup_cause,
         CASE status WHEN 'answered' THEN '200' WHEN 'busy' THEN '486'
                     WHEN 'noanswer' THEN CASE WHEN r_misc % 2 = 0 THEN '480' ELSE '487' END
                     ELSE failed_code END AS sip_code
  FROM leg l
  OFFSET 0
)
SELECT s.n, jsonb_strip_nulls(
  jsonb_build_object(
    'id', to_char((timestamptz 'epoch' + s.leg_start_us * interval '1 microsecond') AT TIME ZONE 'UTC', 'YYYYMM')
          || '-' || s.call_id,
    'call_id', s.call_id,
    'account_id', s.account_id,
    'timestamp', floor(s.leg_end_us / 1000000.0)::bigint + 62167219200,
    'channel_created_time', s.leg_start_us,
    'duration_seconds', floor(s.leg_end_us / 1000000.0)::bigint - floor(s.leg_start_us / 1000000.0)::bigint,
    'billing_seconds', CASE WHEN s.answer_us IS NULL THEN 0
                            ELSE ceil((s.leg_end_us - s.answer_us) / 1000000.0)::bigint END,
    'ringing_seconds', (s.ring_us / 1000000),
    'call_direction', CASE WHEN s.b_leg THEN 'outbound' ELSE 'inbound' END,
    'caller_id_name', s.caller_name,
    'caller_id_number', s.caller_number,
    'callee_id_name', s.callee_number,
    'callee_id_number', s.callee_number,
    'hangup_cause', s.hangup_cause,
    'hangup_code', 'sip:' || s.sip_code,
    'disposition', CASE s.status WHEN 'answered' THEN 'SUCCESS' ELSE s.hangup_cause END,
    'sip_term_status', s.sip_code,
    'other_leg_call_id', s.other_call_id,
    'interaction_id', s.a_uuid,
    'from', s.caller_number || '@' || s.realm,
    'to', s.callee_number || '@' || s.realm,
    'request', s.callee_number || '@' || s.realm,
    'from_uri', s.caller_number || '@' || s.realm,
    'to_uri', s.callee_number || '@' || s.realm,
    'from_tag', substr(s.h2, 1, 12),
    'to_tag', CASE WHEN s.status = 'answered' THEN substr(s.h2, 13, 13) END,
    'user_agent', (ARRAY['Yealink SIP-T46S 66.86.0.15', 'PolycomVVX-VVX_411-UA/6.4.0.1', 'Grandstream GXP2170 1.0.11.3',
                         'Zoiper rv2.10.11.1', 'MicroSIP/3.21.3', 'Linphone-Desktop/5.2.1'])[1 + s.r_caller % 6]
  )
  || jsonb_build_object(
    'local_sdp', 'v=0' || E'\r\n' || 'o=FreeSWITCH 1700000000 1700000001 IN IP4 ' || s.server_ip || E'\r\n'
                 || 's=FreeSWITCH' || E'\r\n' || 'c=IN IP4 ' || s.server_ip || E'\r\n' || 't=0 0' || E'\r\n'
                 || 'm=audio ' || s.local_port || ' RTP/AVP 0 101' || E'\r\n' || 'a=rtpmap:0 PCMU/8000' || E'\r\n'
                 || 'a=rtpmap:101 telephone-event/8000' || E'\r\n' || 'a=ptime:20' || E'\r\n',
    'remote_sdp', 'v=0' || E'\r\n' || 'o=- 3912 3913 IN IP4 ' || s.peer_ip || E'\r\n' || 's=-' || E'\r\n'
                  || 'c=IN IP4 ' || s.peer_ip || E'\r\n' || 't=0 0' || E'\r\n'
                  || 'm=audio ' || s.peer_port || ' RTP/AVP 0 8 101' || E'\r\n' || 'a=rtpmap:0 PCMU/8000' || E'\r\n'
                  || 'a=rtpmap:8 PCMA/8000' || E'\r\n' || 'a=rtpmap:101 telephone-event/8000' || E'\r\n',
    'digits_dialed', CASE WHEN s.r_misc % 10 = 0 THEN '1#' ELSE 'none' END,
    'media_server', 'fs' || s.server || '.bench.example',
    'node', 'bench',
    'presence_id', s.caller_number || '@' || s.realm,
    'app_name', 'cdrd',
    'app_version', '0.1.0',
    'other_leg_caller_id_name', s.caller_name,
    'other_leg_caller_id_number', s.caller_number,
    'other_leg_destination_number', s.callee_number,
    'other_leg_direction', CASE WHEN s.b_leg THEN 'inbound' ELSE 'outbound' END,
    'started_at', cdrd_bench_iso(s.leg_start_us),
    'answered_at', CASE WHEN s.answer_us IS NOT NULL THEN cdrd_bench_iso(s.answer_us) END,
    'ended_at', cdrd_bench_iso(s.leg_end_us),
    'billing_status', s.status,
    'leg', CASE WHEN s.b_leg THEN 'B' ELSE 'A' END,
    'source', 'json_cdr',
    'custom_channel_vars', jsonb_build_object(
        'account_id', s.account_id,
        'realm', s.realm,
        'username', 'u' || (s.r_caller % 500),
        'authorizing_id', md5(s.account_id || ':' || (s.r_caller % 500)),
        'inception', CASE WHEN s.b_leg THEN 'off-net' ELSE 'on-net' END),
    -- One call in five carries a customer header, one answered call in a
    -- hundred is a fax.
    'custom_sip_headers', CASE WHEN s.r_misc % 5 = 0
                               THEN jsonb_build_object('X-Customer-Ref', 'cr-' || (s.r_callee % 100000)) END
  )
  || CASE WHEN s.status = 'answered' AND s.r_misc % 100 = 7 THEN jsonb_build_object(
       'fax_success', '1', 'fax_result_code', '0', 'fax_result_text', 'OK', 'fax_ecm_used', 'on',
       'fax_transferred_pages', '3', 'fax_total_pages', '3', 'fax_bad_rows', '0', 'fax_transfer_rate', '14400')
     ELSE '{}'::jsonb END
) AS record
FROM sdp s
$$;

-- The rows [first_n, last_n) as cdrs rows: the typed columns are read back
-- from the record with the rules of daemon/db/cdr_row.cpp (extract_columns),
-- raw is NULL. received_at is 2 s after the end of the leg, as if ingested live.
CREATE OR REPLACE FUNCTION cdrd_bench_insert(first_n bigint, last_n bigint, total_rows bigint, accounts integer,
                                             skew float8, seed bigint, window_start timestamptz,
                                             window_end timestamptz)
RETURNS bigint
LANGUAGE sql VOLATILE
AS $$
WITH inserted AS (
  INSERT INTO cdrs (id, ts, gregorian_ts, account_id, call_id, started_at, answered_at, duration_seconds,
                    billing_seconds, ringing_seconds, call_direction, hangup_cause, hangup_code, billing_status,
                    caller_id_number, callee_id_number, from_uri, to_uri, other_leg_call_id, interaction_id,
                    media_server, leg, source, imported, is_loopback, received_at, record, raw, raw_format,
                    call_root)
  SELECT r->>'id',
         timestamptz 'epoch' + ((r->>'timestamp')::bigint - 62167219200) * interval '1 second',
         (r->>'timestamp')::bigint,
         r->>'account_id',
         r->>'call_id',
         timestamptz 'epoch' + (r->>'channel_created_time')::bigint * interval '1 microsecond',
         (r->>'answered_at')::timestamptz,
         (r->>'duration_seconds')::integer,
         (r->>'billing_seconds')::integer,
         (r->>'ringing_seconds')::integer,
         r->>'call_direction', r->>'hangup_cause', r->>'hangup_code', r->>'billing_status',
         r->>'caller_id_number', r->>'callee_id_number', r->>'from_uri', r->>'to_uri',
         r->>'other_leg_call_id', r->>'interaction_id', r->>'media_server', r->>'leg', r->>'source',
         coalesce((r->>'imported')::boolean, false),
         coalesce((r->>'is_loopback')::boolean, false),
         timestamptz 'epoch' + ((r->>'timestamp')::bigint - 62167219200 + 2) * interval '1 second',
         r, NULL, NULL,
         r->>'leg' = 'A'  -- the A-leg starts first: call assembly's root (migration 009)
  FROM cdrd_bench_records(first_n, last_n, total_rows, accounts, skew, seed, window_start, window_end) AS b(n, r)
  ON CONFLICT (id, ts, account_id) DO NOTHING
  RETURNING 1
)
SELECT count(*) FROM inserted
$$;
