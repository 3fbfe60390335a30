import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import type { Database } from '../src/db/client.js';
import { webhooks } from '../src/db/tables.js';
import type { DeliveryRow } from '../src/delivery/delivery-events.js';
import { createLogger } from '../src/logger.js';
import { endpointHealth } from '../src/modules/webhooks/endpoint-health.js';
import { webhooksRepository } from '../src/modules/webhooks/webhooks.repository.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const ENABLE = `mutation { enableWebhook { __typename } }`;
const HOUR = 3_600_000;

let source: TestDatabaseSource;
let t: TestApp;
let second: Database | undefined;
beforeAll(async () => {
  source = await createTestDatabaseSource();
  t = await createTestApp({ source });
  // On Postgres, a second worker process has its own connections.
  second = backend === 'postgres' ? await source.open() : undefined;
});
afterAll(async () => {
  await second?.close();
  await t.close();
  await source.destroy();
});

const HOOK = 'http://127.0.0.1:9/hook';

async function userWithWebhook(url = HOOK) {
  const user = await t.register();
  await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url } } });
  return user;
}

const healthOn = (database: Database, logger = createLogger('silent'), disableAfterFailures = 1_000_000) =>
  endpointHealth({
    db: database.db,
    clock: systemClock,
    logger,
    disableAfterFailures,
    disableAfterMs: 0,
    skipPending: async () => {},
  });

describe('webhook health writes', () => {
  it('a disable decided on a stale state leaves a webhook that enableWebhook restarted active', async () => {
    const { apiKey, userId } = await userWithWebhook();
    const repo = webhooksRepository(t.database.db);
    const now = new Date();
    const [state] = await repo.recordHealth([{ userId, url: HOOK, reset: false, failures: 5, firstFailureAt: new Date(now.getTime() - 2 * HOUR), gone: false }]);
    expect(state).toMatchObject({ consecutiveFailures: 5, isActive: true });

    // Between reading that state and disabling, the owner re-activates (the run restarts).
    expect((await t.gql(ENABLE, { apiKey })).body.data!.enableWebhook.__typename).toBe('EnableWebhookSuccess');
    const disabled = await repo.disable(userId, 'stale', now, { gone: false, minFailures: 3, failingSinceAtMost: new Date(now.getTime() - HOUR) });
    expect(disabled).toBeUndefined();
    expect(await repo.findByUser(userId)).toMatchObject({ isActive: true, disabledReason: null, consecutiveFailures: 0 });

    // While the run still holds, the same call disables it.
    await repo.recordHealth([{ userId, url: HOOK, reset: false, failures: 5, firstFailureAt: new Date(now.getTime() - 2 * HOUR), gone: false }]);
    const fresh = await repo.disable(userId, 'still failing', now, { gone: false, minFailures: 3, failingSinceAtMost: new Date(now.getTime() - HOUR) });
    expect(fresh).toMatchObject({ isActive: false, disabledReason: 'still failing' });
  });

  it('two workers recording overlapping batches in opposite orders lose no failure', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => userWithWebhook()));
    const ids = users.map((u) => u.userId);
    const errors: Record<string, unknown>[] = [];
    const logger = createLogger('error', (line) => errors.push(JSON.parse(line)));
    const workers = [healthOn(t.database, logger), healthOn(second ?? t.database, logger)];
    const failed = (userId: string) => ({ id: userId, userId, status: 'FAILED', httpStatus: 500, completedAt: new Date() }) as DeliveryRow;
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      // Each worker's batch lists the users in a different order.
      await Promise.all([
        Promise.all(ids.map((id) => workers[0]!.recorded(failed(id), HOOK))),
        Promise.all([...ids].reverse().map((id) => workers[1]!.recorded(failed(id), HOOK))),
      ]);
    }
    expect(errors).toEqual([]);
    const rows = await t.database.db.select().from(webhooks).where(inArray(webhooks.userId, ids));
    expect(rows.map((r) => r.consecutiveFailures)).toEqual(ids.map(() => 2 * rounds));
    expect(rows.every((r) => r.isActive)).toBe(true);
  });

  it('attempts that went to a URL the user has since replaced neither disable nor count against the new one', async () => {
    const { apiKey, userId } = await userWithWebhook('http://127.0.0.1:9/old');
    // The receiver at the old URL answered 410 and failed, while the user moved the webhook.
    await t.gql(SET, { apiKey, variables: { input: { url: HOOK } } });
    const health = healthOn(t.database, createLogger('silent'), 1);
    const old = (status: string, httpStatus: number) =>
      ({ id: userId, userId, status, httpStatus, completedAt: new Date() }) as DeliveryRow;
    await health.recorded(old('FAILED', 410), 'http://127.0.0.1:9/old');
    await health.recorded(old('FAILED', 500), 'http://127.0.0.1:9/old');
    expect(await webhooksRepository(t.database.db).findByUser(userId)).toMatchObject({ url: HOOK, isActive: true, consecutiveFailures: 0 });

    // The same 410 from the current URL disables it at once.
    await health.recorded(old('PENDING', 410), HOOK);
    expect(await webhooksRepository(t.database.db).findByUser(userId)).toMatchObject({
      isActive: false,
      disabledReason: 'The receiver answered 410 Gone',
    });
  });
});
