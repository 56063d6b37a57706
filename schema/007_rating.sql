-- Rating (issue 12, section 4): rate decks, their rates, and which deck an
-- account pays by (customer) or a trunk's carrier charges by (vendor).
-- Written by `cdrd rates` (daemon/db/rate_store.cpp); the batch writer
-- reads it all into one RatingSnapshot (daemon/rating/rating_snapshot.h)
-- and reads it again when rating_version moves. Money is numeric (exact),
-- never floating point, with at most 12 decimal places (what the engine
-- parses).

CREATE TABLE rate_decks (
    name              text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    currency          text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    duration_rounding text        NOT NULL CHECK (duration_rounding IN ('up', 'nearest', 'down')),
    price_rounding    text        NOT NULL CHECK (price_rounding IN ('none', 'up', 'down', 'half_up')),
    decimals          smallint    NOT NULL CHECK (decimals BETWEEN 0 AND 12),
    source            text,       -- the file it was imported from
    imported_at       timestamptz NOT NULL DEFAULT now()
);

-- One rate per prefix and validity window [valid_from, valid_till); the
-- windows of one prefix never overlap (the importer refuses such a file).
-- Open ends are -infinity / infinity, so valid_from can be in the key.
-- A rate is either two-step (initial_* and next_*) or tiered (tiers:
-- "start_seconds:rate_per_minute:increment_seconds;...").
--
-- No foreign key to rate_decks: PostgreSQL checks one row by row, which
-- was more than half the time of importing 100,000 rates (0.9 of 1.7 s).
-- Rates are written only by replace_deck(), in the transaction that
-- creates or updates their deck; a deck's rates go with it (the statement
-- trigger below); and a rate whose deck does not exist (an edit by hand)
-- is ignored by the reader.
CREATE TABLE rate_deck_entries (
    deck             text        NOT NULL,
    prefix           text        NOT NULL CHECK (prefix ~ '^[0-9]{1,15}$'),
    valid_from       timestamptz NOT NULL DEFAULT '-infinity',
    valid_till       timestamptz NOT NULL DEFAULT 'infinity',
    name             text        NOT NULL DEFAULT '',
    initial_interval integer     CHECK (initial_interval BETWEEN 0 AND 86400),
    initial_rate     numeric     CHECK (initial_rate >= 0 AND scale(initial_rate) <= 12),
    next_interval    integer     CHECK (next_interval BETWEEN 1 AND 86400),
    next_rate        numeric     CHECK (next_rate >= 0 AND scale(next_rate) <= 12),
    tiers            text,
    connect_fee      numeric     NOT NULL DEFAULT 0 CHECK (connect_fee >= 0 AND scale(connect_fee) <= 12),
    attempt_fee      numeric     NOT NULL DEFAULT 0 CHECK (attempt_fee >= 0 AND scale(attempt_fee) <= 12),
    grace_seconds    integer     NOT NULL DEFAULT 0 CHECK (grace_seconds BETWEEN 0 AND 86400),
    min_length       smallint    NOT NULL DEFAULT 0 CHECK (min_length BETWEEN 0 AND 32),
    max_length       smallint    NOT NULL DEFAULT 0 CHECK (max_length BETWEEN 0 AND 32),
    PRIMARY KEY (deck, prefix, valid_from),
    CHECK (valid_till > valid_from),
    CHECK (CASE WHEN tiers IS NULL
                THEN initial_interval IS NOT NULL AND initial_rate IS NOT NULL
                     AND next_interval IS NOT NULL AND next_rate IS NOT NULL
                ELSE initial_interval IS NULL AND initial_rate IS NULL
                     AND next_interval IS NULL AND next_rate IS NULL END)
);

-- side customer: subject is an account id; vendor: a trunk name. Of the
-- assignments of one subject and direction, the one with the latest
-- valid_from at or before a call's start applies; a direction of its own
-- (outbound/inbound) before `any`.
CREATE TABLE rate_assignments (
    side        text        NOT NULL CHECK (side IN ('customer', 'vendor')),
    subject     text        NOT NULL CHECK (subject <> ''),
    direction   text        NOT NULL DEFAULT 'any' CHECK (direction IN ('any', 'outbound', 'inbound')),
    valid_from  timestamptz NOT NULL DEFAULT '-infinity',
    deck        text        NOT NULL REFERENCES rate_decks (name),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (side, subject, direction, valid_from)
);
CREATE INDEX rate_assignments_deck ON rate_assignments (deck);

-- The generation of everything above: one row, bumped by every statement
-- that changes one of the three tables (the triggers below), so a psql edit
-- counts as much as `cdrd rates`. A reader compares it to the version of the
-- snapshot it holds (cheap: one row); NOTIFY cdrd_rates tells a listener to
-- look. The payload is empty so that the notifications of one transaction
-- collapse into one (PostgreSQL drops duplicates within a transaction).
CREATE TABLE rating_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint  NOT NULL
);
INSERT INTO rating_version (one, version) VALUES (true, 1);

CREATE FUNCTION cdrd_rating_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rating_version SET version = version + 1;
    PERFORM pg_notify('cdrd_rates', '');
    RETURN NULL;
END
$$;

CREATE FUNCTION cdrd_rate_decks_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM rate_deck_entries e USING deleted_decks d WHERE e.deck = d.name;
    RETURN NULL;
END
$$;
CREATE TRIGGER rate_decks_deleted AFTER DELETE ON rate_decks
    REFERENCING OLD TABLE AS deleted_decks FOR EACH STATEMENT EXECUTE FUNCTION cdrd_rate_decks_deleted();

CREATE TRIGGER rate_decks_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_decks
    FOR EACH STATEMENT EXECUTE FUNCTION cdrd_rating_changed();
CREATE TRIGGER rate_deck_entries_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_deck_entries
    FOR EACH STATEMENT EXECUTE FUNCTION cdrd_rating_changed();
CREATE TRIGGER rate_assignments_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rate_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION cdrd_rating_changed();
