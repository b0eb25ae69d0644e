import { inspect } from 'node:util';

/** What a query answers, as far as the coordinator reads it. */
export interface PgResultLike {
  rows: unknown[];
  rowCount: number | null;
}

/** A connection checked out of the pool (`pg.PoolClient`). */
export interface PgPoolClientLike {
  query(text: string, values?: unknown[]): Promise<PgResultLike>;
  release(error?: Error | boolean): void;
}

/** A query as node-postgres takes it (`pg.QueryConfig`); with a `name`, a prepared statement. */
export interface PgQuery {
  name?: string;
  text: string;
  values?: unknown[];
}

/** The part of a `pg.Pool` (node-postgres 8) the coordinator uses: typed by shape, so `pg` is needed only by the app. */
export interface PgPoolLike {
  query(query: PgQuery): Promise<PgResultLike>;
  connect(): Promise<PgPoolClientLike>;
}

export function assertPool(pool: unknown): asserts pool is PgPoolLike {
  const candidate = pool as Partial<Record<keyof PgPoolLike, unknown>> | null;
  if (typeof candidate === 'object' && candidate !== null && typeof candidate.query === 'function' && typeof candidate.connect === 'function') return;
  throw new TypeError(`PostgresRunCoordinator: expected a pg.Pool (new pg.Pool(...)), got ${typeof pool === 'function' ? 'a function; pass an instance, not the class' : inspect(pool, { depth: 0 })}`);
}
