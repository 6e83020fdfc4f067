-- An archived game's blob may be replaced by one with more seals: the
-- game's final seal can be stored after an archiving run stored the blob
-- and was cut short before the game left the hot log (package archive,
-- Move checks that the new blob holds the same log and every seal of the
-- old). As with Remove, the transaction-local setting playlog.replacing
-- set to 'on' lets that one UPDATE through; every other UPDATE or DELETE
-- on archived_games is still refused.
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('events', 'seals')
       AND current_setting('playlog.removing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'archived_games'
       AND current_setting('playlog.replacing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'playlog: the event log is append-only (% on % refused)', TG_OP, TG_TABLE_NAME;
END $$;
