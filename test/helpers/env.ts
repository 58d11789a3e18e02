/** Where the test services live. Tests only ever target 127.0.0.1. */
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Database URL for a given database name on the test server. */
export function pgUrl(database: string): string {
  return `postgres://postgres@127.0.0.1:5432/${database}`;
}
