-- The event log. One row per event; (game_id, seq) is the guard against
-- forks: two writers cannot both store the event after the same seq.
CREATE TABLE events (
    game_id        uuid        NOT NULL,
    seq            bigint      NOT NULL CHECK (seq > 0),
    -- Global feed order: by writing transaction id (the 64-bit xid8, as a
    -- bigint), then seq. A reader only reads below
    -- pg_snapshot_xmin(pg_current_snapshot()), where every transaction has
    -- finished, so late commits are never skipped (a plain sequence
    -- position is not a safe cursor).
    txid           bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
    type           text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version > 0),
    actor          text        NOT NULL,
    message_id     text        NOT NULL,
    -- On the first event of an append with a message id: how many events
    -- the append stored. 0 on every other event. Readers rebuild the
    -- idempotency index (message id -> events) from these rows.
    command_size   smallint    NOT NULL DEFAULT 0 CHECK (command_size >= 0),
    -- json, not jsonb: the exact bytes are kept, because the hash covers them.
    data           json        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    prev_hash      bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash           bytea       NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (game_id, seq)
);

-- The feed reads by txid ranges. Rows arrive in (nearly) txid order, so a
-- BRIN index finds a range's pages at almost no cost per insert, where a
-- btree on (txid, seq) cost a tenth of the append throughput under
-- concurrency (docs/performance.md). One transaction appends to one game,
-- so (txid, seq) orders events totally.
CREATE INDEX events_feed ON events USING brin (txid) WITH (autosummarize = on);

-- No index on message_id: the primary key already serializes every append
-- to a game (seq n+1 can only be written by a statement that sees seq n
-- committed), so a writer whose view of the game is complete up to the
-- expected seq cannot store a message id twice. The store keeps that view
-- per game in memory, built from these rows (docs/eventlog.md).

-- The log is append-only.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'playlog: the event log is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
