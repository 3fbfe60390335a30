import { count, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { quoteChanges, webhookDeliveries } from '../../src/db/tables.js';
import { eventually } from './receiver.js';
import type { TestApp } from './test-app.js';

export const ADMIN_KEY = 'admin-key-0123456789';
export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const UPSERT = `mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`;
const CREATE = `mutation($input: CreateAlertInput!) { createAlert(input: $input) { __typename
  ... on CreateAlertSuccess { alert { id state notify triggerCount } }
  ... on ValidationError { fields { path message } } } }`;

/** Small steps that build push-alert scenarios through the API. */
export function pushAlertSteps(t: TestApp) {
  return {
    async setPrices(prices: Record<string, number>): Promise<void> {
      const input = Object.entries(prices).map(([ticker, price]) => ({ ticker, price }));
      const res = await t.gql(UPSERT, { apiKey: ADMIN_KEY, variables: { input } });
      expect(res.body.data?.upsertQuotes.count).toBe(input.length);
    },
    async createAlert(apiKey: string, input: Record<string, unknown>): Promise<string> {
      const res = await t.gql(CREATE, { apiKey, variables: { input: { alertType: 'PRICE_THRESHOLD', direction: 'ABOVE', ...input } } });
      expect(res.body.data?.createAlert.__typename).toBe('CreateAlertSuccess');
      return res.body.data!.createAlert.alert.id;
    },
    async userWithWebhook(url: string) {
      const user = await t.register();
      const set = await t.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, {
        apiKey: user.apiKey,
        variables: { input: { url, secret: SECRET } },
      });
      expect(set.body.data!.setWebhook.__typename).toBe('SetWebhookSuccess');
      return user;
    },
    /** Resolves once every recorded price change has been evaluated (its pass committed). */
    async evaluated(): Promise<void> {
      await eventually(async () => {
        const [row] = await t.database.db.select({ n: count() }).from(quoteChanges);
        expect(row!.n).toBe(0);
      });
    },
    async deliveriesOf(userId: string) {
      return t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.userId, userId)).orderBy(webhookDeliveries.seq);
    },
  };
}
