import { and, desc, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { queryRows } from '../../db/rows.js';
import { quoteChanges, quoteHistory, quotes } from '../../db/tables.js';

/** Evaluators wake on this when a price change commits. */
export const QUOTES_CHANGED_CHANNEL = 'alertwire_quotes_changed';

export type QuoteRow = typeof quotes.$inferSelect;
export interface QuotePointRow {
  ticker: string;
  price: number;
  asOf: Date;
}

/** Points kept per ticker; the signal needs 15, the rest is context for charts and imports. */
export const HISTORY_LIMIT = 100;

export function quotesRepository(db: Db) {
  return {
    async findLatest(tickers: readonly string[]): Promise<QuoteRow[]> {
      if (tickers.length === 0) return [];
      return db.select().from(quotes).where(inArray(quotes.ticker, [...tickers]));
    },

    /** The newest `perTicker` points of each ticker, oldest first, in one query. */
    async findRecentHistory(tickers: readonly string[], perTicker: number): Promise<Map<string, number[]>> {
      const byTicker = new Map<string, number[]>();
      if (tickers.length === 0) return byTicker;
      const ranked = db
        .select({
          ticker: quoteHistory.ticker,
          price: quoteHistory.price,
          rank: sql<number>`row_number() over (partition by ${quoteHistory.ticker} order by ${quoteHistory.asOf} desc, ${quoteHistory.id} desc)`.as(
            'rank',
          ),
        })
        .from(quoteHistory)
        .where(inArray(quoteHistory.ticker, [...tickers]))
        .as('ranked');
      const rows = await db
        .select({ ticker: ranked.ticker, price: ranked.price })
        .from(ranked)
        .where(lte(ranked.rank, perTicker))
        .orderBy(ranked.ticker, desc(ranked.rank));
      for (const row of rows) {
        const list = byTicker.get(row.ticker) ?? [];
        list.push(row.price);
        byTicker.set(row.ticker, list);
      }
      return byTicker;
    },

    /**
     * Appends the points to the history, moves each ticker's latest price forward, prunes old
     * points, and records every moved price as a change for the alert evaluators, in one
     * transaction: a change that commits is evaluated even if this process dies right after.
     * Returns the tickers whose latest price moved.
     */
    async record(points: readonly QuotePointRow[]): Promise<string[]> {
      if (points.length === 0) return [];
      const latest = new Map<string, QuotePointRow>();
      for (const p of points) {
        const seen = latest.get(p.ticker);
        if (!seen || p.asOf.getTime() >= seen.asOf.getTime()) latest.set(p.ticker, p);
      }
      const tickers = [...latest.keys()];
      return db.transaction(async (tx) => {
        for (let i = 0; i < points.length; i += 1000) {
          await tx.insert(quoteHistory).values(points.slice(i, i + 1000).map((p) => ({ ...p })));
        }
        // In ticker order: two concurrent upserts lock the quote rows in the same order, never in a cycle.
        const rows = [...latest.values()].sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0));
        const moved = await tx
          .insert(quotes)
          .values(rows.map((p) => ({ ...p })))
          .onConflictDoUpdate({
            target: quotes.ticker,
            set: { price: sql`excluded.price`, asOf: sql`excluded.as_of` },
            // An older point (a late import) extends the history but never replaces a newer price.
            setWhere: sql`excluded.as_of >= ${quotes.asOf}`,
          })
          .returning();
        // After the upsert, which holds each quote row's lock until commit: change ids of one
        // ticker follow the order in which its price moved.
        if (moved.length > 0) {
          await tx.insert(quoteChanges).values(moved.map((q) => ({ ticker: q.ticker, price: q.price, asOf: q.asOf })));
          await tx.execute(sql`select pg_notify(${QUOTES_CHANGED_CHANNEL}, '')`);
        }
        const stale = tx
          .select({
            id: quoteHistory.id,
            rank: sql<number>`row_number() over (partition by ${quoteHistory.ticker} order by ${quoteHistory.asOf} desc, ${quoteHistory.id} desc)`.as(
              'rank',
            ),
          })
          .from(quoteHistory)
          .where(inArray(quoteHistory.ticker, tickers))
          .as('stale');
        await tx
          .delete(quoteHistory)
          .where(
            and(
              inArray(quoteHistory.ticker, tickers),
              inArray(quoteHistory.id, tx.select({ id: stale.id }).from(stale).where(sql`${stale.rank} > ${HISTORY_LIMIT}`)),
            ),
          );
        return moved.map((q) => q.ticker);
      });
    },

    // Asked on every start of the embedded database: one query, and no count of a history that grows.
    async isEmpty(): Promise<boolean> {
      const [row] = await queryRows<{ empty: boolean }>(
        db,
        sql`select not exists (select from ${quotes}) and not exists (select from ${quoteHistory}) as empty`,
      );
      return row!.empty;
    },
  };
}

