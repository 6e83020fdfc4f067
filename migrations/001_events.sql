-- The event log. One row per event; (game_id, seq) is the guard against
-- forks: two writers cannot both store the event after the same seq.
CREATE TABLE events (
    game_id        uuid        NOT NULL,
    seq            bigint      NOT NULL CHECK (seq > 0),
    -- Global feed order: by writing transaction id, then seq. A reader only
    -- reads below pg_snapshot_xmin(pg_current_snapshot()), where every
    -- transaction has finished, so late commits are never skipped (a plain
    -- sequence position is not a safe cursor).
    txid           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    type           text        NOT NULL,
    schema_version integer     NOT NULL CHECK (schema_version > 0),
    actor          text        NOT NULL,
    message_id     text        NOT NULL,
    -- On the first event of an append with a message id: how many events
    -- the append stored. 0 on every other event.
    command_size   smallint    NOT NULL DEFAULT 0 CHECK (command_size >= 0),
    -- json, not jsonb: the exact bytes are kept, because the hash covers them.
    data           json        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    prev_hash      bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash           bytea       NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (game_id, seq)
);

-- One transaction appends to one game, so (txid, seq) is unique; the index
-- enforces it, so a transaction that broke the rule would fail, not make
-- the feed skip an event.
CREATE UNIQUE INDEX events_feed ON events (txid, seq);

-- The idempotency record: one entry per command (message id) per game,
-- checked against the log itself, forever, not inside a time window.
CREATE UNIQUE INDEX events_command ON events (game_id, message_id) WHERE command_size > 0;

-- The log is append-only.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'playlog: the event log is append-only (% refused)', TG_OP;
END $$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- append_events stores one command's events in one round trip.
-- status: 'ok' | 'duplicate' (first_seq..last_seq hold the stored events)
--       | 'conflict' (head is the actual head) | 'not_found'
--       | 'stale_prev' (p_prev_hash is not the hash of seq p_expected).
-- A racing writer of the same seq or message id makes the INSERT fail with a
-- unique violation; the caller then asks again which case it was. Call it
-- once per transaction (events_feed enforces this).
CREATE FUNCTION append_events(
    p_game uuid, p_expected bigint, p_prev_hash bytea, p_message_id text,
    p_recorded_at timestamptz, p_types text[], p_versions integer[],
    p_actors text[], p_data text[], p_hashes bytea[])
RETURNS TABLE (status text, head bigint, first_seq bigint, last_seq bigint,
               txid bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n       integer := cardinality(p_types);
    c_first bigint;
    c_last  bigint;
    h       bigint;
BEGIN
    IF p_message_id <> '' THEN
        SELECT e.seq, e.seq + e.command_size - 1 INTO c_first, c_last
          FROM events e
         WHERE e.game_id = p_game AND e.message_id = p_message_id AND e.command_size > 0;
        IF FOUND THEN
            RETURN QUERY SELECT 'duplicate'::text, 0::bigint, c_first, c_last, 0::bigint;
            RETURN;
        END IF;
    END IF;
    IF p_expected > 0 AND NOT EXISTS (
        SELECT 1 FROM events e
         WHERE e.game_id = p_game AND e.seq = p_expected AND e.hash = p_prev_hash) THEN
        SELECT max(e.seq) INTO h FROM events e WHERE e.game_id = p_game;
        RETURN QUERY SELECT CASE WHEN h IS NULL THEN 'not_found'
                                 WHEN h = p_expected THEN 'stale_prev'
                                 ELSE 'conflict' END,
                            coalesce(h, 0), 0::bigint, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    INSERT INTO events (game_id, seq, type, schema_version, actor, message_id,
                        command_size, data, recorded_at, prev_hash, hash)
    SELECT p_game, p_expected + t.i, t.typ, t.ver, t.act, p_message_id,
           CASE WHEN t.i = 1 AND p_message_id <> '' THEN n ELSE 0 END,
           t.dat::json, p_recorded_at,
           CASE WHEN t.i = 1 THEN p_prev_hash ELSE p_hashes[t.i - 1] END, t.hsh
      FROM unnest(p_types, p_versions, p_actors, p_data, p_hashes)
           WITH ORDINALITY AS t(typ, ver, act, dat, hsh, i);
    RETURN QUERY SELECT 'ok'::text, p_expected + n, p_expected + 1, p_expected + n,
                        pg_current_xact_id()::text::bigint;
END $$;
