/** A load scenario of price changes over threshold alerts, with its crossings computed independently. */
interface AlertSpec {
  user: number;
  ticker: string;
  targetPrice: number;
  direction: 'ABOVE' | 'BELOW';
}

export interface Scenario {
  tickers: string[];
  alerts: AlertSpec[];
  /** Per ticker, the prices it takes in order (each one a price change). */
  lanes: Map<string, number[]>;
}

/** A fixed pseudo-random sequence (LCG), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

export function scenario(options: { users: number; alertsPerUser: number; tickers: number; changes: number; seed?: number }): Scenario {
  const next = random(options.seed ?? 42);
  const tickers = Array.from({ length: options.tickers }, (_, i) => `LOAD${i}`);
  const alerts: AlertSpec[] = [];
  for (let user = 0; user < options.users; user++) {
    for (let j = 0; j < options.alertsPerUser; j++) {
      const n = user * options.alertsPerUser + j;
      alerts.push({ user, ticker: tickers[n % tickers.length]!, targetPrice: 90 + (n % 21), direction: n % 2 === 0 ? 'ABOVE' : 'BELOW' });
    }
  }
  const lanes = new Map(tickers.map((t) => [t, [] as number[]]));
  for (let i = 0; i < options.changes; i++) {
    lanes.get(tickers[i % tickers.length]!)!.push(Math.round((80 + next() * 40) * 100) / 100);
  }
  return { tickers, alerts, lanes };
}

/** Crossings per alert index: ARMED → TRIGGERED when the condition turns true, re-armed when it is false. */
export function expectedCrossings(s: Scenario): number[] {
  return s.alerts.map((alert) => {
    let armed = true;
    let crossings = 0;
    for (const price of s.lanes.get(alert.ticker)!) {
      const holds = alert.direction === 'ABOVE' ? price > alert.targetPrice : price < alert.targetPrice;
      if (armed && holds) {
        crossings++;
        armed = false;
      } else if (!armed && !holds) armed = true;
    }
    return crossings;
  });
}

/** Counts the alerts.triggered entries per alert id over distinct deliveries (a retry repeats a delivery id). */
export function entriesPerAlert(bodies: Map<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const body of bodies.values()) {
    const payload = JSON.parse(body) as { event: string; triggered_alerts?: { alert: { id: string } }[] };
    if (payload.event !== 'alerts.triggered') continue;
    for (const entry of payload.triggered_alerts ?? []) counts.set(entry.alert.id, (counts.get(entry.alert.id) ?? 0) + 1);
  }
  return counts;
}
