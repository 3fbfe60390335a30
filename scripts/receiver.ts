// `npm run receiver -- --secret <secret> [--port 4001] [--status 200]`: a local webhook receiver
// that prints each delivery and whether its signatures verify, like `stripe listen`.
// Verification is written out here with node:crypto, independently of the code that signs.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4001' },
    host: { type: 'string', default: '127.0.0.1' },
    secret: { type: 'string' },
    status: { type: 'string', default: '200' },
  },
});
const port = Number(values.port);
const status = Number(values.status);
const secret = values.secret;
const TOLERANCE_SECONDS = 5 * 60;

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const header = (headers: NodeJS.Dict<string | string[]>, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function verifyHub(body: string, signature: string | undefined): string {
  if (!secret) return 'not checked (no --secret)';
  if (!signature) return 'MISSING';
  const expected = `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`;
  return same(expected, signature) ? 'valid' : 'INVALID';
}

function verifyStandard(body: string, id?: string, timestamp?: string, signature?: string): string {
  if (!secret) return 'not checked (no --secret)';
  if (!id || !timestamp || !signature) return 'MISSING';
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (!(age <= TOLERANCE_SECONDS)) return `INVALID (timestamp ${Math.round(age)} s away, replay?)`;
  const matches = signature.split(' ').some((s) => s.startsWith('v1,') && same(s.slice(3), expected));
  return matches ? 'valid' : 'INVALID';
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const h = req.headers;
    let pretty = body;
    try {
      pretty = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      // not JSON: print as received
    }
    const lines = [
      `── ${new Date().toISOString()}  ${req.method} ${req.url}  → answering ${status}`,
      `   event:     ${header(h, 'x-webhook-event') ?? '-'}`,
      `   delivery:  ${header(h, 'x-webhook-delivery') ?? '-'}`,
      `   agent:     ${header(h, 'user-agent') ?? '-'}`,
      `   X-Webhook-Signature (sha256 HMAC):      ${verifyHub(body, header(h, 'x-webhook-signature'))}`,
      `   webhook-signature (Standard Webhooks):  ${verifyStandard(body, header(h, 'webhook-id'), header(h, 'webhook-timestamp'), header(h, 'webhook-signature'))}`,
      pretty.replace(/^/gm, '   '),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status >= 200 && status < 300 ? 'ok' : 'failing on purpose (--status)');
  });
});

server.listen(port, values.host, () => {
  process.stdout.write(
    `Alertwire receiver on http://${values.host}:${port}/ answering ${status}; ` +
      `${secret ? 'verifying signatures with the given secret' : 'no --secret: signatures are not checked'}\n\n`,
  );
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
