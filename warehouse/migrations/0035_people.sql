-- 0035: who is who. One row per identity a source uses (an email, a GitHub login, an API key name, a user.id
-- attribute, a coding agent's machine user), mapped to one person and team, from the `people` source.
-- Identities are trimmed and lowercased; with privacy.pseudonymize_people they and `person` hold keyed hashes.
CREATE TABLE IF NOT EXISTS people (
    identity       VARCHAR NOT NULL,   -- as sources carry it, normalized (or its keyed hash)
    identity_kind  VARCHAR NOT NULL,   -- email | github | api_key | user_id | machine_user
    person         VARCHAR NOT NULL,   -- the person's name as the file gives it (or its keyed hash)
    team           VARCHAR,
    valid_from     DATE,               -- the mapping holds from this UTC day on; NULL: always
    x_source       VARCHAR NOT NULL,
    x_source_file  VARCHAR NOT NULL
);
