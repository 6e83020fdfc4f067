-- Read models built from the event log's global feed (package projections).
-- Each projection's model is committed together with its checkpoint, in
-- the same transaction, so a model holds exactly the events up to its
-- checkpoint (projections/doc.go).

-- One row per projection: the feed position of the last event its model
-- holds, as (transaction id, seq) (eventstore.Position). The zero position
-- is a new or rebuilt model.
CREATE TABLE projection_checkpoints (
    name       text        PRIMARY KEY,
    major      bigint      NOT NULL CHECK (major >= 0),
    minor      bigint      NOT NULL CHECK (minor >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The history projection: every game it has seen created, and for a
-- finished game its outcome. events is the seq of the last event the row
-- has taken in: for a finished game, its last seq (its event count).
CREATE TABLE history_games (
    game_id    uuid        PRIMARY KEY,
    rules      text        NOT NULL,
    players    text[]      NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    winners    text[]      NOT NULL DEFAULT '{}',
    draw       boolean     NOT NULL DEFAULT false,
    reason     text        NOT NULL DEFAULT '',
    events     bigint      NOT NULL CHECK (events > 0)
);

-- A user's finished games, newest first: one row per player of each
-- finished game. The primary key is the index a page reads, backwards.
CREATE TABLE history_players (
    player   text        NOT NULL,
    ended_at timestamptz NOT NULL,
    game_id  uuid        NOT NULL REFERENCES history_games (game_id) ON DELETE CASCADE,
    PRIMARY KEY (player, ended_at, game_id)
);
