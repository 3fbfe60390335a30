import type { SQL } from 'drizzle-orm';
import { PgDialect, type PgPreparedQuery } from 'drizzle-orm/pg-core';
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

/**
 * Raw SQL (its values as `sql.placeholder`s) as a named prepared statement, on either backend,
 * for statements drizzle's builders cannot express (data-modifying CTEs). Rows reach `mapRows`
 * as arrays of column values, the one shape both drivers answer alike.
 */
export function prepareSql<T>(db: Db, name: string, query: SQL, mapRows: (rows: unknown[][]) => T): PgPreparedQuery<{ execute: T; all: unknown; values: unknown }> {
  return db._.session.prepareQuery(dialect.sqlToQuery(query), undefined, name, true, mapRows);
}

const dialect = new PgDialect();
