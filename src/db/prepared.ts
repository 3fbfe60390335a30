import type { Db } from './client.js';

/**
 * A prepared query built once per database handle, on first use: hot queries (the claim, the
 * `webhook` read) skip drizzle building the same statement on every call.
 */
export function preparedPerDb<Q>(prepare: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  return (db) => {
    let query = built.get(db);
    if (!query) {
      query = prepare(db);
      built.set(db, query);
    }
    return query;
  };
}
