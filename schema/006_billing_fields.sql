-- Issue 12: the billing fields as typed columns (filters, summaries and
-- rating read them without parsing the record), the links that assemble the
-- legs of one call, and Kazoo's key spelling in the custom objects.
--
-- Columns without a default are added without rewriting the table.
ALTER TABLE cdrs
    ADD COLUMN sip_call_id         text,
    ADD COLUMN trunk               text,
    -- inbound / outbound / internal / transit: the same on every leg of a call
    -- (set by the writer's call assembly, daemon/db/call_assembly.h).
    ADD COLUMN direction_class     text,
    ADD COLUMN caller_e164         text,
    ADD COLUMN callee_e164         text,
    ADD COLUMN destination_country text,
    -- The interaction this leg names by itself (the A-leg's uuid, or the id
    -- an import carried). interaction_id is the call's, which the legs of a
    -- call agree on once they are assembled; this one is kept to assemble again.
    ADD COLUMN leg_interaction_id  text,
    -- Rating (record.rating): exact decimals, never floating point.
    ADD COLUMN customer_charge     numeric,
    ADD COLUMN customer_currency   text,
    ADD COLUMN vendor_charge       numeric,
    ADD COLUMN vendor_currency     text;

-- Rows stored before this migration keep leg_interaction_id NULL, which
-- means "interaction_id is the leg's own" (readers use coalesce): filling it
-- in would rewrite every row of the table. A re-link saves it first.

-- Every uuid a leg names (its own call_id, its interaction, the other leg,
-- bridge, signal_bond, originator, loopback halves, transfers), one row each.
-- Two legs that name a common uuid belong to one call. Not partitioned: the
-- assembly walks it by link from any month; retention deletes by ts (a daily
-- scan, cheaper than one more index entry per link written).
CREATE TABLE cdr_links (
    account_id text        NOT NULL,
    link       text        NOT NULL,
    call_id    text        NOT NULL,
    ts         timestamptz NOT NULL,
    PRIMARY KEY (account_id, link, call_id)
);
CREATE INDEX cdr_links_call ON cdr_links (account_id, call_id);

INSERT INTO cdr_links (account_id, link, call_id, ts)
SELECT DISTINCT account_id, l, call_id, ts
FROM cdrs, LATERAL (VALUES (call_id), (interaction_id), (other_leg_call_id), (record->>'other_loopback_leg_uuid')) v(l)
WHERE l IS NOT NULL AND l <> ''
ON CONFLICT DO NOTHING;

-- Kazoo stores custom keys lower case with '-' as '_' (ecallmgr_Owner-ID ->
-- owner_id, X-Foo-Bar -> x_foo_bar). Two keys that become one keep the value
-- of the first in key order, as the normalizers do (jsonb_object_agg keeps
-- the last value it is given, hence DESC).
CREATE FUNCTION cdrd_kazoo_keys(o jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(o) = 'object'
    THEN coalesce((SELECT jsonb_object_agg(lower(replace(k, '-', '_')), v ORDER BY k DESC) FROM jsonb_each(o) e(k, v)), '{}'::jsonb)
    ELSE o END
$$;

UPDATE cdrs SET record = record
    || CASE WHEN record ? 'custom_channel_vars'
            THEN jsonb_build_object('custom_channel_vars', cdrd_kazoo_keys(record->'custom_channel_vars')) ELSE '{}' END
    || CASE WHEN record ? 'custom_sip_headers'
            THEN jsonb_build_object('custom_sip_headers', cdrd_kazoo_keys(record->'custom_sip_headers')) ELSE '{}' END
    || CASE WHEN record ? 'custom_application_vars'
            THEN jsonb_build_object('custom_application_vars', cdrd_kazoo_keys(record->'custom_application_vars')) ELSE '{}' END
WHERE record ?| ARRAY['custom_channel_vars', 'custom_sip_headers', 'custom_application_vars'];

-- The summary's group_by columns and the charge sums, index-only like 005.
DROP INDEX IF EXISTS cdrs_account_ts_summary;
CREATE INDEX cdrs_account_ts_summary ON cdrs (account_id, ts)
    INCLUDE (billing_status, hangup_cause, billing_seconds, is_loopback, leg, interaction_id, direction_class,
             trunk, destination_country, media_server, customer_charge, customer_currency, vendor_charge,
             vendor_currency);

-- Long commands over stored rows (cdrd renormalize, cdrd rerate): where each
-- run got to, committed with every batch, so a killed run resumes there.
CREATE TABLE cdrd_jobs (
    job            text        PRIMARY KEY,  -- the command and its window, e.g. "rerate from=... to=... account=... deck=..."
    cursor_account text        NOT NULL DEFAULT '',
    cursor_ts      timestamptz NOT NULL DEFAULT '-infinity',
    cursor_id      text        NOT NULL DEFAULT '',
    rows_done      bigint      NOT NULL DEFAULT 0,
    rows_skipped   bigint      NOT NULL DEFAULT 0,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
