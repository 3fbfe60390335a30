import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAddress, privateHostReason } from '../src/delivery/address-policy.js';
import { createHttpSender, type LookupFn } from '../src/delivery/http-sender.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** Answers every name with 127.0.0.1, like a DNS-rebinding attacker's domain. */
const resolvesToLoopback: LookupFn = (_host, options, callback) =>
  options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);

const SETTING = /WEBHOOK_ALLOW_PRIVATE_NETWORKS/;

let canary: Receiver;
beforeAll(async () => {
  canary = await createReceiver();
});
afterAll(() => canary.close());

describe('the address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.169.254', 'linkLocal'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (ipv4Mapped)'],
    ['::ffff:169.254.169.254', 'linkLocal (ipv4Mapped)'],
    ['64:ff9b::7f00:1', 'loopback (rfc6052)'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal (rfc6052)'],
    ['2002:7f00:1::', 'loopback (6to4)'],
    ['2002:c0a8:1::', 'private (6to4)'],
    ['::7f00:1', 'reserved'],
    ['2001:db8::1', 'reserved'],
  ])('blocks %s (%s)', (address, reason) => {
    expect(checkAddress(address)).toEqual({ address: expect.any(String), reason });
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::'])(
    'allows the public address %s',
    (address) => {
      expect(checkAddress(address)).toBeNull();
    },
  );

  it.each([
    ['127.1', '127.0.0.1 is loopback'],
    ['2130706433', '127.0.0.1 is loopback'],
    ['0x7f.1', '127.0.0.1 is loopback'],
    ['0177.0.0.1', '127.0.0.1 is loopback'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1 is loopback (ipv4Mapped)'],
    ['localhost', 'localhost is a loopback name'],
    ['api.localhost.', 'api.localhost. is a loopback name'],
  ])('reads the literal host %s as %s', (host, reason) => {
    expect(privateHostReason(host)).toBe(reason);
  });

  it('has nothing to say about ordinary host names', () => {
    expect(privateHostReason('example.com')).toBeNull();
    expect(privateHostReason('8.8.8.8')).toBeNull();
  });
});

describe('the connect-time guard', () => {
  const guarded = () => createHttpSender({ timeoutMs: 2000, allowPrivateNetworks: false, lookup: resolvesToLoopback });
  const send = (sender: ReturnType<typeof guarded>, url: string) =>
    sender.send({ url, deliveryId: 'd-1', event: 'webhook.ping', body: '{}', secret: null });

  const spellings = (port: number) => [
    `http://127.0.0.1:${port}/`,
    `http://127.1:${port}/`,
    `http://2130706433:${port}/`,
    `http://0x7f.1:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://[::1]:${port}/`,
    `http://[::]:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`,
    `http://[64:ff9b::127.0.0.1]:${port}/`,
    `http://[2002:7f00:1::]:${port}/`,
    `http://[::127.0.0.1]:${port}/`,
    `http://10.0.0.1:${port}/`,
    `http://172.16.5.4:${port}/`,
    `http://192.168.1.1:${port}/`,
    `http://100.64.0.1:${port}/`,
    `http://169.254.169.254:${port}/latest/meta-data/`,
    `http://[::ffff:169.254.169.254]:${port}/`,
    `http://[fe80::1]:${port}/`,
    `http://[fc00::1]:${port}/`,
    `http://[fd12:3456::1]:${port}/`,
    `http://224.0.0.1:${port}/`,
    `http://[ff02::1]:${port}/`,
    `http://240.0.0.1:${port}/`,
    `http://255.255.255.255:${port}/`,
    `http://rebinding.example:${port}/`,
  ];

  it('blocks every private spelling before connecting: the canary receives nothing', async () => {
    const sender = guarded();
    try {
      for (const url of spellings(canary.port)) {
        const outcome = await send(sender, url);
        expect({ url, kind: outcome.failureKind, delivered: outcome.delivered }).toEqual({ url, kind: 'BLOCKED_ADDRESS', delivered: false });
        expect(outcome.error).toMatch(SETTING);
      }
      expect(canary.requests).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it('blocks localhost through the real resolver', async () => {
    const sender = createHttpSender({ timeoutMs: 2000, allowPrivateNetworks: false });
    try {
      const outcome = await send(sender, `http://localhost:${canary.port}/`);
      expect(outcome.failureKind).toBe('BLOCKED_ADDRESS');
      expect(outcome.error).toMatch(/^Blocked address: localhost \((127\.0\.0\.1|::1)\) is loopback/);
      expect(canary.requests).toHaveLength(0);
    } finally {
      await sender.close();
    }
  });

  it('lets the same spellings through when WEBHOOK_ALLOW_PRIVATE_NETWORKS is on', async () => {
    const sender = createHttpSender({ timeoutMs: 2000, allowPrivateNetworks: true, lookup: resolvesToLoopback });
    try {
      for (const url of [`http://127.1:${canary.port}/`, `http://0x7f.1:${canary.port}/`, `http://rebinding.example:${canary.port}/`]) {
        expect((await send(sender, url)).delivered).toBe(true);
      }
      expect(canary.requests).toHaveLength(3);
    } finally {
      canary.requests.length = 0;
      await sender.close();
    }
  });
});

describe('with WEBHOOK_ALLOW_PRIVATE_NETWORKS=false', () => {
  const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) {
    __typename ... on InvalidWebhookUrl { message url } } }`;
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_RETRY_BASE_MS: '10' } });
  });
  afterAll(() => t.close());

  it.each([
    'http://127.1/hook',
    'http://2130706433/hook',
    'http://0x7f.1/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::1]/hook',
    'http://localhost:4001/hook',
    'http://LOCALHOST./hook',
    'http://10.0.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00::1]/hook',
  ])('setWebhook refuses %s with InvalidWebhookUrl naming the setting', async (url) => {
    const { apiKey } = await t.register();
    const result = (await t.gql(SET, { apiKey, variables: { input: { url } } })).body.data!.setWebhook;
    expect(result).toMatchObject({ __typename: 'InvalidWebhookUrl', url });
    expect(result.message).toMatch(SETTING);
  });

  it('setWebhook accepts a public host name', async () => {
    const { apiKey } = await t.register();
    const result = (await t.gql(SET, { apiKey, variables: { input: { url: 'https://hooks.example.com/x' } } })).body.data!.setWebhook;
    expect(result.__typename).toBe('SetWebhookSuccess');
  });

  it('a name that resolves to 127.0.0.1 passes setWebhook, then its one attempt is BLOCKED_ADDRESS, not retried', async () => {
    await t.startWorker({ lookup: resolvesToLoopback });
    const { apiKey } = await t.register();
    const url = `http://rebinding.example:${canary.port}/hook`;
    expect((await t.gql(SET, { apiKey, variables: { input: { url } } })).body.data!.setWebhook.__typename).toBe('SetWebhookSuccess');
    await t.gql(`mutation { sendTestWebhook { __typename } }`, { apiKey });
    const delivery = await eventually(async () => {
      const res = await t.gql(`{ webhookDeliveries { deliveries { status failureKind failureReason attempts attemptLog { failureKind } } } }`, { apiKey });
      const [d] = res.body.data!.webhookDeliveries.deliveries;
      expect(d.status).toBe('FAILED');
      return d;
    });
    expect(delivery).toMatchObject({ failureKind: 'BLOCKED_ADDRESS', attempts: 1 });
    expect(delivery.attemptLog).toEqual([{ failureKind: 'BLOCKED_ADDRESS' }]);
    expect(delivery.failureReason).toMatch(
      /^Attempt 1 of 2 failed; a retry cannot help, so none is made: Blocked address: rebinding\.example \(127\.0\.0\.1\) is loopback/,
    );
    expect(delivery.failureReason).toMatch(SETTING);
    expect(canary.requests).toHaveLength(0);
  });
});
