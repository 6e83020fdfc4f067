-- State snapshots (docs/snapshots.md): each game's latest state after one
-- of its events, encoded by the engine. A cache of the fold, not part of
-- the log: rows are replaced by later snapshots and deleted with the game.
-- seq and hash name the event the snapshot follows; PutSnapshot writes
-- only if the game's event at seq has that hash.
CREATE TABLE snapshots (
    game_id   uuid        PRIMARY KEY,
    seq       bigint      NOT NULL CHECK (seq > 0),
    hash      bytea       NOT NULL CHECK (length(hash) = 32),
    data      bytea       NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);
