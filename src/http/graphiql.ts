import { randomBytes } from 'node:crypto';
import type { GraphiQLOptions } from 'graphql-yoga';

/** Loaded on the first GraphiQL page, not at start: the renderer is a 9 MB module (≈ 0.2 s to load). */
export async function renderGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL: render } = await import('@graphql-yoga/render-graphiql');
  return render(options);
}

/**
 * GraphiQL's first tabs. The email is fresh on every page load so that Register works on a
 * database where someone already ran it; keys are never persisted by the page (the headers
 * editor is kept in memory only).
 */
export function graphiqlOptions(): GraphiQLOptions {
  const email = `you-${randomBytes(4).toString('hex')}@example.com`;
  return {
    title: 'Alertwire',
    shouldPersistHeaders: false,
    defaultTabs: [
      { query: REGISTER, variables: JSON.stringify({ input: { name: 'Ada', email } }, null, 2) },
      { query: VIEWER, headers: KEY_HEADER },
      { query: DELIVERIES, headers: KEY_HEADER },
    ],
  };
}

const KEY_HEADER = JSON.stringify({ 'X-API-Key': 'aw_… (the apiKey that Register answered)' }, null, 2);

const REGISTER = `# Welcome to Alertwire. Run this once (change the email to yours): the answer holds your
# API key, shown only once. Put it in the Headers tab below of the other tabs:
#   { "X-API-Key": "aw_..." }
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    apiKey
    user { id name email }
  }
}
`;

const VIEWER = `# Needs your key in the Headers tab: { "X-API-Key": "aw_..." }
query Me {
  viewer { id name email createdAt }
  webhook { url hasSecret isActive }
  alerts { count maxAlerts }
}
`;

const DELIVERIES = `# Live delivery status (needs your key in the Headers tab). Then, in another tab,
# set a webhook and run: mutation { sendTestWebhook { __typename } }
subscription Deliveries {
  webhookDeliveryUpdated { id event status attempts httpStatus failureReason }
}
`;
