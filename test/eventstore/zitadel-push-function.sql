-- ZITADEL 2.67+'s SQL push path (setup step 40: cmd/setup/40/01_type.sql and
-- cmd/setup/40/postgres/02_func.sql, in the version after #9092), reconstructed for tests
-- from zitadel-facts.md §1. Behaviour to reproduce:
--   * per aggregate: sequence = COALESCE(latest sequence, 0) + ROW_NUMBER() OVER () in the
--     order the commands appear in the array;
--   * owner = COALESCE(owner of the latest event, command owner);
--   * created_at = NOW(), position = EXTRACT(EPOCH FROM NOW()) (transaction start: every
--     event of one transaction shares both);
--   * in_tx_order = 1-based ordinality in the whole array;
--   * push() inserts ORDER BY in_tx_order and returns the rows.
-- The 2.67 type has these 8 fields (a later `written_by_v3 BOOLEAN` was appended after).

CREATE TYPE eventstore.command AS (
    instance_id TEXT
    , aggregate_type TEXT
    , aggregate_id TEXT
    , command_type TEXT
    , revision INT2
    , payload JSONB
    , creator TEXT
    , owner TEXT
);

CREATE OR REPLACE FUNCTION eventstore.latest_aggregate_state(
    instance_id TEXT
    , aggregate_type TEXT
    , aggregate_id TEXT
    , sequence OUT BIGINT
    , owner OUT TEXT
)
    LANGUAGE plpgsql
    STABLE PARALLEL SAFE
AS $$
BEGIN
    SELECT COALESCE(e.sequence, 0), e.owner
    INTO sequence, owner
    FROM eventstore.events2 e
    WHERE e.instance_id = $1
      AND e.aggregate_type = $2
      AND e.aggregate_id = $3
    ORDER BY e.sequence DESC
    LIMIT 1;
    RETURN;
END;
$$;

CREATE OR REPLACE FUNCTION eventstore.commands_to_events(commands eventstore.command[])
    RETURNS SETOF eventstore.events2
    LANGUAGE plpgsql
    STABLE PARALLEL SAFE
    ROWS 10
AS $$
DECLARE
    agg RECORD;
    current_sequence BIGINT;
    current_owner TEXT;
BEGIN
    FOR agg IN
        SELECT DISTINCT u.instance_id, u.aggregate_type, u.aggregate_id
        FROM UNNEST(commands) AS u
    LOOP
        SELECT s.sequence, s.owner
        INTO current_sequence, current_owner
        FROM eventstore.latest_aggregate_state(agg.instance_id, agg.aggregate_type, agg.aggregate_id) AS s;

        RETURN QUERY
        SELECT
            c.instance_id
            , c.aggregate_type
            , c.aggregate_id
            , c.command_type                                    -- event_type
            , COALESCE(current_sequence, 0) + ROW_NUMBER() OVER () -- sequence
            , c.revision
            , NOW()                                             -- created_at
            , c.payload
            , c.creator
            , COALESCE(current_owner, c.owner)                  -- owner
            , EXTRACT(EPOCH FROM NOW())                         -- position
            , c.ordinality::INT                                 -- in_tx_order
        FROM UNNEST(commands) WITH ORDINALITY AS c
        WHERE c.instance_id = agg.instance_id
          AND c.aggregate_type = agg.aggregate_type
          AND c.aggregate_id = agg.aggregate_id;
    END LOOP;
    RETURN;
END;
$$;

CREATE OR REPLACE FUNCTION eventstore.push(commands eventstore.command[])
    RETURNS SETOF eventstore.events2
    LANGUAGE SQL
    VOLATILE
AS $$
INSERT INTO eventstore.events2
SELECT * FROM eventstore.commands_to_events(commands)
ORDER BY in_tx_order
RETURNING *
$$;
