-- Archived games (package archive): each finished game that left the hot
-- log, as one gzipped export (docs/eventlog.md, "Export format"), verified
-- before its rows were removed from events. Append-only, like the log.
CREATE TABLE archived_games (
    game_id     uuid        PRIMARY KEY,
    archived_at timestamptz NOT NULL DEFAULT now(),
    data        bytea       NOT NULL
);

CREATE TRIGGER archived_games_append_only BEFORE UPDATE OR DELETE ON archived_games
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
