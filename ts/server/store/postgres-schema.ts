/**
 * PostgreSQL schema of the sync service, as numbered migrations run by `PostgresDocStore.init()`
 * under an advisory lock (so several service processes starting together migrate once).
 * Every name is qualified with the store's schema.
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
    ]
}

export function quoteIdentifier(name: string): string {
    return `"${name.replace(/"/g, '""')}"`
}
