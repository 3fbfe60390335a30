import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movableClock } from './helpers/clock.js';
import { createOutageFixture, type OutageFixture } from './helpers/outage.js';
import { eventually } from './helpers/receiver.js';
import { timed } from './helpers/timed.js';

// A PostgreSQL of this file's own, stopped and started again. On the PGlite run too: an
// in-process PGlite cannot become unreachable, and this is about the server driver's path.
const LEASE_MS = 20_000;
const clock = movableClock();
let fixture: OutageFixture;
beforeAll(async () => {
  fixture = await createOutageFixture({ clock, env: { DELIVERY_LEASE_MS: String(LEASE_MS), WEBHOOK_TIMEOUT_MS: '10000' } });
});
afterAll(() => fixture?.close());

describe('a PostgreSQL outage', () => {
  it('answers 503 + Retry-After within 2 s (ready: within 1 s), and delivers confirmed enqueues after recovery', async () => {
    const { pg, t, receiver, letGo } = fixture;
    const apiKey = await fixture.subscriber();
    const ping = await t.gql(`mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`, { apiKey });
    const id: string = ping.body.data!.sendTestWebhook.delivery.id;
    await receiver.waitFor(1);

    await pg.stop();
    letGo(); // the attempt ends while its result cannot be written

    // The key itself may come from the per-process key cache; reading the webhook needs the database.
    const viewer = await timed(() => t.gql(`{ webhook { url } }`, { apiKey }));
    expect(viewer.ms).toBeLessThan(2000);
    expect(viewer.value.status).toBe(503);
    expect(viewer.value.headers.get('retry-after')).toBe('5');
    expect(viewer.value.body.errors![0]!.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 5 });

    // An unknown key must be looked up: the context fails, and its warning carries the request id.
    const lookup = await t.gql(`{ viewer { id } }`, { apiKey: 'aw_not-a-key-of-anyone' });
    expect(lookup.status).toBe(503);
    const requestId = lookup.headers.get('x-request-id');
    expect(t.logs.find((l) => l.msg === 'database unavailable' && l.requestId === requestId)).toMatchObject({ level: 'warn' });

    const register = await timed(() =>
      t.gql(`mutation { register(input: { name: "Late", email: "late@example.com" }) { apiKey } }`),
    );
    expect(register.ms).toBeLessThan(2000);
    expect(register.value.status).toBe(503);
    expect(register.value.body.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(register.value.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);

    const ready = await timed(async () => t.app.fetch('http://127.0.0.1/ready'));
    expect(ready.ms).toBeLessThan(1000);
    expect(ready.value.status).toBe(503);

    await pg.start();
    await eventually(async () => expect((await t.app.fetch('http://127.0.0.1/ready')).status).toBe(200));
    // The unrecorded attempt's lease runs out; the delivery is sent again (same id) and recorded.
    clock.advance(LEASE_MS + 1000);
    await receiver.waitFor(2);
    expect(receiver.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([id, id]);
    const delivered = await eventually(async () => {
      const res = await t.gql(`{ webhookDeliveries { deliveries { id status } } }`, { apiKey });
      expect(res.body.data!.webhookDeliveries.deliveries).toEqual([{ id, status: 'DELIVERED' }]);
      return res;
    });
    expect(delivered.status).toBe(200);
  });
});
