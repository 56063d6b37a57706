-- API keys made by `cdrd api-key create` (issue 4). The key itself is never
-- stored: key_hash is the SHA-256 of the whole key
-- ("cdrd_<key_id>_<secret>"), which is what a presented key is looked up
-- by. key_id is the public name of the key (list, revoke, and the tokens
-- minted from it, so revoking the key voids them too).
CREATE TABLE api_keys (
    key_id     text PRIMARY KEY,
    key_hash   bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    accounts   text[] NOT NULL CHECK (cardinality(accounts) > 0),
    name       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
