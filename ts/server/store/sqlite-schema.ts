/**
 * SQLite schema of the sync service, as numbered migrations. `schema_migrations` records which
 * ran; each runs in the same BEGIN IMMEDIATE transaction as its record, so two processes opening
 * one file migrate once.
 *
 * `docs.data` holds JSON.stringify's output, in which NUL and lone surrogates are escapes, so any
 * string in a document's data round-trips exactly (better-sqlite3 would otherwise write a lone
 * surrogate as bytes that read back as U+FFFD characters).
 */
export const SQLITE_MIGRATIONS: { version: number; sql: string }[] = [
    {
        version: 1,
        sql: `
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per user; last_seq is the per-user change sequence.
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER
);
CREATE TABLE docs (
    user_id TEXT NOT NULL,
    id TEXT NOT NULL,
    client_version INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    data TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    last_update_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX docs_user_seq ON docs (user_id, seq);
CREATE TABLE devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    registered_ms INTEGER,
    last_seen_ms INTEGER,
    cursor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, device_id)
);
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
`,
    },
    {
        // Token ids for `synclog token list/revoke`: a prefix of the hash, so existing rows get theirs.
        version: 2,
        sql: `
ALTER TABLE tokens ADD COLUMN token_id TEXT;
UPDATE tokens SET token_id = substr(token_hash, 1, 16);
CREATE UNIQUE INDEX tokens_token_id ON tokens (token_id);
`,
    },
]
