// The `fleetcron/postgres` entry: the PostgreSQL coordinator, kept apart so the main entry never needs pg.
export {
  PostgresRunCoordinator, postgresSchemaSql, type PostgresRunCoordinatorOptions, type PostgresSchemaOptions, type PgPoolLike, type PgPoolClientLike,
  type PgQuery, type PgResultLike,
} from './coordination/postgres.js';
export type { ClaimAnswer, ClaimRequest, FireBackend } from './coordination/records/backend.js';
export type { FireOutcome, FireRecord, FireState, Holder, HistoryOptions, RetentionOptions } from './coordination/records/fire-record.js';
