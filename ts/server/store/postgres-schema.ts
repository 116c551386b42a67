/**
 * PostgreSQL schema of the sync service, as numbered migrations run by `PostgresDocStore.init()`
 * under an advisory lock (so several service processes starting together migrate once).
 * Every name is qualified with the store's schema.
 *
 * `docs.data` is `text` holding JSON.stringify's output on purpose, not `jsonb`: jsonb refuses
 * `\u0000` (22P05) and lone-surrogate escapes such as `\ud800` (22P02), which document data may
 * contain and must round-trip exactly. JSON.stringify escapes both, so the text is plain UTF-8.
 */
export function postgresMigrations(schema: string): { version: number; sql: string }[] {
    const s = quoteIdentifier(schema)
    return [
        {
            version: 1,
            sql: `
CREATE TABLE ${s}.meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
-- One row per user; writes lock it (SELECT ... FOR UPDATE) so a user's seqs commit in order.
CREATE TABLE ${s}.users (
    user_id text PRIMARY KEY,
    last_seq bigint NOT NULL DEFAULT 0,
    created_ms bigint
);
CREATE TABLE ${s}.docs (
    user_id text NOT NULL,
    id text NOT NULL,
    client_version bigint NOT NULL,
    client_id text NOT NULL,
    data text NOT NULL,
    deleted boolean NOT NULL,
    last_update_ms bigint NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE UNIQUE INDEX docs_user_seq ON ${s}.docs (user_id, seq);
CREATE TABLE ${s}.devices (
    user_id text NOT NULL,
    device_id text NOT NULL,
    registered_ms bigint,
    last_seen_ms bigint,
    cursor bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, device_id)
);
CREATE TABLE ${s}.tokens (
    token_hash text PRIMARY KEY,
    user_id text NOT NULL,
    created_ms bigint NOT NULL
);
`,
        },
        {
            // Token ids for synclog token list/revoke: a prefix of the hash, so existing rows get theirs.
            version: 2,
            sql: `
ALTER TABLE ${s}.tokens ADD COLUMN token_id text;
UPDATE ${s}.tokens SET token_id = substr(token_hash, 1, 16);
CREATE UNIQUE INDEX tokens_token_id ON ${s}.tokens (token_id);
`,
        },
    ]
}

export function quoteIdentifier(name: string): string {
    return `"${name.replace(/"/g, '""')}"`
}
