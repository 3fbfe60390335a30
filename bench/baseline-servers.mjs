// The two references of bench/api-read.bench.ts, each run in a process of its own:
//   bare: node:http + postgres.js doing what Alertwire's read does (key hash → user, user → webhook)
//   yoga: a minimal graphql-yoga schema whose `webhook` field does the same two queries
// Usage: node bench/baseline-servers.mjs bare|yoga <port> <postgres url>
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import postgres from 'postgres';

const [kind, port, url] = process.argv.slice(2);
const sql = postgres(url, { max: 10, onnotice: () => {} });

const hashKey = (key) => createHash('sha256').update(key, 'utf8').digest('hex');
const userOf = async (key) =>
  key ? (await sql`select u.id, u.name, u.email, u.created_at from api_keys k join users u on u.id = k.user_id where k.key_hash = ${hashKey(key)}`)[0] : undefined;
const webhookOf = async (userId) => (await sql`select * from webhooks where user_id = ${userId}`)[0];
const shape = (row) =>
  row && {
    url: row.url,
    hasSecret: row.secret_ciphertext !== null,
    isActive: row.is_active,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };

function bare() {
  return createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const user = await userOf(req.headers['x-api-key']);
        if (!user) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"message":"no key"}]}');
          return;
        }
        const body = JSON.stringify({ data: { webhook: shape(await webhookOf(user.id)) ?? null } });
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } catch {
        res.writeHead(500).end();
      }
    });
  });
}

function yoga() {
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      type Webhook { url: String! hasSecret: Boolean! isActive: Boolean! createdAt: String! updatedAt: String! }
      type Query { webhook: Webhook }
    `,
    resolvers: {
      Query: {
        webhook: async (_root, _args, ctx) => {
          const user = await userOf(ctx.request.headers.get('x-api-key'));
          return user ? (shape(await webhookOf(user.id)) ?? null) : null;
        },
      },
    },
  });
  return createServer(createYoga({ schema, logging: false }));
}

const server = (kind === 'bare' ? bare : yoga)();
server.listen(Number(port), '127.0.0.1', () => process.send?.('listening'));
process.on('SIGTERM', () => server.close(() => sql.end({ timeout: 1 }).then(() => process.exit(0))));
