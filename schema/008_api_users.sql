-- API users made by `cdrd user create` (issue 13): the read API's login
-- routes (Kazoo's PUT /v2/user_auth, the PBX and JSON:API logins) take a
-- login and a password. The password is never stored: secret_hash is the
-- Argon2id hash (libsodium's crypto_pwhash_str string) of
-- md5hex(login ":" password), because Kazoo's user_auth sends only that md5
-- and the password logins can compute it, so both verify against one hash
-- (daemon/auth/password_hash.h). A login holds no ':', which would make
-- "login:password" ambiguous. owner_id is the Kazoo user id the user reads
-- as (optional); revoking a user voids the tokens minted for it.
CREATE TABLE api_users (
    login       text PRIMARY KEY CHECK (login <> '' AND strpos(login, ':') = 0),
    secret_hash text NOT NULL,
    accounts    text[] NOT NULL CHECK (cardinality(accounts) > 0),
    owner_id    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
