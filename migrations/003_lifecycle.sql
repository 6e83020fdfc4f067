-- Seals, import and removal (issue 11; docs/eventlog.md, "Seals" and
-- "Remove").

-- A game's seals: the server's signatures over its log up to seq (package
-- seal signs and checks them; the store keeps them, append-only, in the
-- order stored). A seal equal to a stored one (same seq, kind, key id and
-- signature) is not stored again.
CREATE TABLE seals (
    game_id   uuid        NOT NULL,
    -- The order stored.
    id        bigint      GENERATED ALWAYS AS IDENTITY,
    seq       bigint      NOT NULL CHECK (seq > 0),
    kind      text        NOT NULL CHECK (kind IN ('final', 'checkpoint')),
    hash      bytea       NOT NULL CHECK (length(hash) = 32),
    key_id    text        NOT NULL CHECK (octet_length(key_id) BETWEEN 1 AND 64),
    signature bytea       NOT NULL CHECK (length(signature) = 64),
    sealed_at timestamptz NOT NULL,
    PRIMARY KEY (game_id, id),
    UNIQUE (game_id, seq, kind, key_id, signature)
);

-- The log and its seals are append-only, except that Remove (archiving)
-- deletes a whole game: in its own transaction, after checking the game's
-- head, with the transaction-local setting playlog.removing set to 'on'
-- (set_config('playlog.removing', 'on', true)). The setting is a guard
-- against mistakes, not against whoever may write the tables. UPDATE is
-- always refused, and so is DELETE on any other table using this trigger
-- function.
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('events', 'seals')
       AND current_setting('playlog.removing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'playlog: the event log is append-only (% on % refused)', TG_OP, TG_TABLE_NAME;
END $$;

CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
