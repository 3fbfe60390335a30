import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { queryRows } from '../../db/rows.js';
import { alerts } from '../../db/tables.js';
import type { AlertRow } from './alerts.repository.js';
import type { AlertStateFields } from './alert-state.js';

/** Every crossing of an alert, from any process (the alertTriggered subscription). */
export const ALERT_TRIGGERED_CHANNEL = 'alertwire_alert_triggered';

export interface QuoteChange {
  id: number;
  ticker: string;
  price: number;
  asOf: Date;
}

export interface StateUpdate {
  alert: AlertRow;
  next: AlertStateFields;
}

export interface TriggeredNotice {
  userId: string;
  alertId: string;
  currentValue: string;
  details: string;
  evaluatedAt: string;
  deliveryId: string | null;
}

const json = (value: unknown) => JSON.stringify(value);

export function evaluationRepository(tx: Db) {
  return {
    /**
     * Claims up to `limit` tickers with unevaluated changes and returns all their changes, oldest
     * first. A ticker belongs to whoever locks its oldest change: another evaluator skips it
     * (SKIP LOCKED) instead of waiting, and can never take a newer change of that ticker while an
     * older one is held, so each ticker's changes are evaluated in order.
     */
    async claimChanges(limit: number): Promise<QuoteChange[]> {
      const heads = await queryRows<{ ticker: string }>(
        tx,
        sql`select c.ticker from quote_changes c
            where c.id = (select min(o.id) from quote_changes o where o.ticker = c.ticker)
            order by c.id limit ${limit}
            for update skip locked /* claimChanges */`,
      );
      if (heads.length === 0) return [];
      const rows = await queryRows<{ id: string | number; ticker: string; price: number; as_of: string | Date }>(
        tx,
        sql`select id, ticker, price, as_of from quote_changes
            where ticker in (select jsonb_array_elements_text(${json(heads.map((h) => h.ticker))}::jsonb))
            order by id for update /* claimChangesOfTickers */`,
      );
      return rows.map((r) => ({ id: Number(r.id), ticker: r.ticker, price: Number(r.price), asOf: new Date(r.as_of) }));
    },

    async deleteChanges(ids: number[]): Promise<void> {
      if (ids.length === 0) return;
      await tx.execute(
        sql`delete from quote_changes where id in (select value::bigint from jsonb_array_elements_text(${json(ids.map(String))}::jsonb))`,
      );
    },

    /**
     * The live alerts on the changes' tickers (through the ticker index) whose state these changes
     * can move. A necessary condition only, to skip reading the many alerts a move leaves alone:
     * a threshold alert is read when ARMED and some price is past its target, when TRIGGERED and
     * some price is not, or when expired; every other kind is always read. evaluateAlert decides.
     */
    liveAlertsOn(changes: readonly QuoteChange[], now: Date): Promise<AlertRow[]> {
      const ranges = new Map<string, { ticker: string; lo: number; hi: number }>();
      for (const { ticker, price } of changes) {
        const range = ranges.get(ticker);
        if (range) Object.assign(range, { lo: Math.min(range.lo, price), hi: Math.max(range.hi, price) });
        else ranges.set(ticker, { ticker, lo: price, hi: price });
      }
      const candidates = sql`(select a.id from alerts a
        join jsonb_to_recordset(${json([...ranges.values()])}::jsonb) as c(ticker text, lo float8, hi float8) on c.ticker = a.ticker
        where a.state in ('ARMED', 'TRIGGERED') and (
          a.alert_type <> 'PRICE_THRESHOLD'
          or a.expires_at <= ${now.toISOString()}::timestamptz
          or (a.state = 'ARMED' and ((a.direction = 'ABOVE' and c.hi > a.target_price) or (a.direction = 'BELOW' and c.lo < a.target_price)))
          or (a.state = 'TRIGGERED' and ((a.direction = 'ABOVE' and c.lo <= a.target_price) or (a.direction = 'BELOW' and c.hi >= a.target_price)))))`;
      return tx.select().from(alerts).where(inArray(alerts.id, candidates));
    },

    /**
     * Writes the new states with a compare-and-set on the state read: an alert changed or deleted
     * since is left alone. Returns the ids written.
     */
    async compareAndSet(updates: StateUpdate[]): Promise<Set<string>> {
      if (updates.length === 0) return new Set();
      const batch = json(
        updates.map(({ alert, next }) => ({
          id: alert.id,
          old_state: alert.state,
          old_count: alert.triggerCount,
          state: next.state,
          trigger_count: next.triggerCount,
          last_triggered_at: next.lastTriggeredAt?.toISOString() ?? null,
          state_changed_at: next.stateChangedAt?.toISOString() ?? null,
        })),
      );
      const rows = await queryRows<{ id: string }>(
        tx,
        sql`with v as (select * from jsonb_to_recordset(${batch}::jsonb) as r(id uuid, old_state text, old_count int,
              state text, trigger_count int, last_triggered_at timestamptz, state_changed_at timestamptz))
            update alerts a set state = v.state, trigger_count = v.trigger_count,
              last_triggered_at = v.last_triggered_at, state_changed_at = v.state_changed_at
            from v where a.id = v.id and a.state = v.old_state and a.trigger_count = v.old_count
            returning a.id /* compareAndSetAlertStates */`,
      );
      return new Set(rows.map((r) => r.id));
    },

    /**
     * Published with the transaction, so listeners hear only of committed crossings; one NOTIFY
     * per user (at most 10 alerts, far below the 8,000-byte payload limit).
     */
    async notifyTriggered(notices: TriggeredNotice[]): Promise<void> {
      if (notices.length === 0) return;
      const perUser = new Map<string, TriggeredNotice[]>();
      for (const notice of notices) perUser.set(notice.userId, [...(perUser.get(notice.userId) ?? []), notice]);
      await tx.execute(
        sql`select pg_notify(${ALERT_TRIGGERED_CHANNEL}, value::text) from jsonb_array_elements(${json([...perUser.values()])}::jsonb)`,
      );
    },
  };
}
