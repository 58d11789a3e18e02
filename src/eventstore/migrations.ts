/**
 * DDL that `herald migrate` runs. ZITADEL's statements are copied from its
 * cmd/initialise/sql/postgres/08_events_table.sql (zitadel-facts.md §1) and only ever run
 * when events2 does not exist; herald's own objects live in schema `herald`.
 */

/** ZITADEL's events2 table, exactly as ZITADEL creates it. */
export const ZITADEL_EVENTS2_TABLE = `
CREATE TABLE IF NOT EXISTS eventstore.events2 (
    instance_id TEXT NOT NULL
    , aggregate_type TEXT NOT NULL
    , aggregate_id TEXT NOT NULL
    , event_type TEXT NOT NULL
    , "sequence" BIGINT NOT NULL
    , revision SMALLINT NOT NULL
    , created_at TIMESTAMPTZ NOT NULL
    , payload JSONB
    , creator TEXT NOT NULL
    , "owner" TEXT NOT NULL
    , "position" DECIMAL NOT NULL
    , in_tx_order INTEGER NOT NULL
    , PRIMARY KEY (instance_id, aggregate_type, aggregate_id, "sequence")
)`;

/** ZITADEL's initial indexes; created together with the table, never on an existing one. */
export const ZITADEL_EVENTS2_INDEXES = [
  'CREATE INDEX IF NOT EXISTS es_active_instances ON eventstore.events2 (created_at DESC, instance_id)',
  'CREATE INDEX IF NOT EXISTS es_wm ON eventstore.events2 (aggregate_id, instance_id, aggregate_type, event_type)',
  'CREATE INDEX IF NOT EXISTS es_projection ON eventstore.events2 (instance_id, aggregate_type, event_type, "position")',
] as const;

export const HERALD_SCHEMA_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS herald.schema_migrations (
    version INTEGER PRIMARY KEY
    , name TEXT NOT NULL
    , applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

export interface MigrationStep {
  /** Strictly increasing; a recorded version is never run again. */
  readonly version: number;
  readonly name: string;
  /** Run in one transaction together with recording the version. */
  readonly statements: readonly string[];
}

/**
 * herald's versioned steps. Append new steps at the end; never edit an applied one.
 * Steps must not touch ZITADEL's objects (CONCURRENTLY index builds cannot run here,
 * see schema.ts).
 */
export const HERALD_STEPS: readonly MigrationStep[] = [
  {
    version: 1,
    name: 'checkpoints',
    statements: [
      `CREATE TABLE IF NOT EXISTS herald.checkpoints (
          name TEXT PRIMARY KEY
          , "position" DECIMAL NOT NULL
          , in_tx_order INTEGER NOT NULL
          , updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // The delivery history (src/history/): one row per notification, keyed by its source,
    // its id there (notification aggregate id / River job id) and its instance.
    version: 2,
    name: 'delivery_history',
    statements: [
      `CREATE TABLE IF NOT EXISTS herald.deliveries (
          source TEXT NOT NULL
          , id TEXT NOT NULL
          , instance_id TEXT NOT NULL
          , org_id TEXT
          , user_id TEXT
          , message_type TEXT
          , channel TEXT
          , provider_kind TEXT
          , recipient TEXT
          , state TEXT NOT NULL
          , attempts INTEGER NOT NULL DEFAULT 0
          , attempt_log JSONB NOT NULL DEFAULT '[]'
          , result_class TEXT
          , error_code TEXT
          , reason TEXT
          , provider_message_id TEXT
          , otp BOOLEAN NOT NULL DEFAULT false
          , requested_at TIMESTAMPTZ NOT NULL
          , finished_at TIMESTAMPTZ
          , latency_ms DOUBLE PRECISION
          , updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
          , PRIMARY KEY (id, source, instance_id)
      )`,
      'CREATE INDEX IF NOT EXISTS deliveries_requested ON herald.deliveries (requested_at DESC)',
      'CREATE INDEX IF NOT EXISTS deliveries_instance ON herald.deliveries (instance_id, requested_at DESC)',
      'CREATE INDEX IF NOT EXISTS deliveries_user ON herald.deliveries (user_id, requested_at DESC)',
      'CREATE INDEX IF NOT EXISTS deliveries_updated ON herald.deliveries (updated_at)',
    ],
  },
  {
    // River mode's duplicate check (src/river/handled.ts): the args of every River row herald
    // completed, by hash, so a twin is found with one primary-key probe instead of a scan of
    // River's table.
    version: 3,
    name: 'river_answered',
    statements: [
      `CREATE TABLE IF NOT EXISTS herald.river_answered (
          args_hash BYTEA NOT NULL
          , job_id BIGINT NOT NULL
          , job_created_at TIMESTAMPTZ NOT NULL
          , completed_at TIMESTAMPTZ NOT NULL DEFAULT now()
          , PRIMARY KEY (args_hash, job_id)
      )`,
      'CREATE INDEX IF NOT EXISTS river_answered_completed ON herald.river_answered (completed_at)',
    ],
  },
];

/**
 * Optional index for the cross-instance producer tail (eventstore.md "Table"): ZITADEL's
 * es_projection starts with instance_id, which does not serve a tail over all instances.
 */
export const HERALD_POSITION_INDEX = 'herald_notification_position';
export const CREATE_HERALD_POSITION_INDEX = `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${HERALD_POSITION_INDEX}
  ON eventstore.events2 ("position", in_tx_order) WHERE aggregate_type = 'notification'`;
export const DROP_HERALD_POSITION_INDEX = `DROP INDEX CONCURRENTLY IF EXISTS eventstore.${HERALD_POSITION_INDEX}`;

/** Channel that the optional notify trigger signals; the payload is the instance id. */
export const NOTIFY_CHANNEL = 'herald_notification';
export const NOTIFY_TRIGGER = 'herald_notify';

export const CREATE_NOTIFY_FUNCTION = `
CREATE OR REPLACE FUNCTION herald.notify_notification() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('${NOTIFY_CHANNEL}', NEW.instance_id);
    RETURN NULL;
END;
$$`;

export const CREATE_NOTIFY_TRIGGER = `
CREATE TRIGGER ${NOTIFY_TRIGGER}
    AFTER INSERT ON eventstore.events2
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'notification'
          AND NEW.event_type IN ('notification.requested', 'notification.retry.requested'))
    EXECUTE FUNCTION herald.notify_notification()`;
