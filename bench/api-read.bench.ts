// API read throughput: `{ webhook { … } }` with an API key, autocannon at 32 connections, against
// Alertwire (`node dist/src/main.js`, the production entry point) and two references doing the
// same two queries (key hash → user, user → webhook): a bare node:http + postgres.js server and a
// minimal graphql-yoga server. Every server runs in a process of its own on the same PostgreSQL.
// `DATABASE_URL=postgres://… npm run bench:api`; results → RESULTS.md.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuSeconds, recordedOn, replaceSection } from './results-file.js';
import { createTestDatabaseSource } from '../test/helpers/test-database.js';

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('set DATABASE_URL: this benchmark compares against postgres.js on PostgreSQL');
const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));
const READ = '{ webhook { url hasSecret isActive createdAt updatedAt } }';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer`);
}

async function gql(port: number, query: string, apiKey?: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

interface Run {
  rps: number;
  p99: number;
  non2xx: number;
  /** CPU the server process used per answered request (all its threads), in µs. */
  cpuPerRequest: number;
}

async function load(port: number, apiKey: string, query: string, seconds = SECONDS, pid?: number): Promise<Run> {
  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/graphql`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query }),
  });
  const cpu = pid ? cpuSeconds(pid) - cpuBefore : 0;
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx + result.errors, cpuPerRequest: (cpu * 1e6) / result.requests.total };
}

const source = await createTestDatabaseSource();
const children: ChildProcess[] = [];
try {
  const url = source.url!;
  const alertwirePort = await freePort();
  // e.g. ALERTWIRE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server under load.
  const nodeArgs = process.env.ALERTWIRE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const alertwire = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: url,
      SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PORT: String(alertwirePort),
      HOST: '127.0.0.1',
      DELIVERY_WORKER: 'false',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      RATE_LIMIT_MAX: '1000000',
      LOG_LEVEL: 'error',
    },
  });
  children.push(alertwire);
  await waitForHttp(`http://127.0.0.1:${alertwirePort}/ready`, alertwire);

  const registered = await gql(alertwirePort, 'mutation { register(input: { name: "Bench", email: "bench@example.com" }) { apiKey } }');
  const apiKey: string = registered.data.register.apiKey;
  const set = await gql(
    alertwirePort,
    'mutation { setWebhook(input: { url: "http://127.0.0.1:9/hook", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }) { __typename } }',
    apiKey,
  );
  if (set.data?.setWebhook?.__typename !== 'SetWebhookSuccess') throw new Error(`setWebhook: ${JSON.stringify(set)}`);

  const references: Record<'bare' | 'yoga', number> = { bare: await freePort(), yoga: await freePort() };
  const pids: Record<string, number> = { alertwire: alertwire.pid! };
  for (const [kind, port] of Object.entries(references)) {
    const child = fork(fileURLToPath(new URL('baseline-servers.mjs', import.meta.url)), [kind, String(port), url], {
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child);
    pids[kind] = child.pid!;
    await new Promise((resolve) => child.once('message', resolve));
  }
  for (const port of [alertwirePort, references.bare, references.yoga]) {
    const answer = await gql(port, READ, apiKey);
    if (answer.data?.webhook?.url !== 'http://127.0.0.1:9/hook') throw new Error(`port ${port}: ${JSON.stringify(answer)}`);
    // Warm-up: JIT, connection pools, caches. 2 s left the first round ~40 % slower on a busy machine.
    await load(port, apiKey, READ, WARMUP_SECONDS);
  }

  const runs: Record<string, Run[]> = { alertwire: [], typename: [], bare: [], yoga: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.alertwire!.push(await load(alertwirePort, apiKey, READ, SECONDS, pids.alertwire));
    runs.bare!.push(await load(references.bare, apiKey, READ, SECONDS, pids.bare));
    runs.yoga!.push(await load(references.yoga, apiKey, READ, SECONDS, pids.yoga));
    runs.typename!.push(await load(alertwirePort, apiKey, '{ __typename }', SECONDS, pids.alertwire));
    console.log(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.at(-1)])));
  }
  const best = (kind: string) => runs[kind]!.reduce((a, b) => (b.rps > a.rps ? b : a));
  const bare = best('bare').rps;
  const yoga = best('yoga').rps;
  const row = (label: string, kind: string) => {
    const r = best(kind);
    const all = runs[kind]!.map((x) => x.rps.toFixed(0)).join(', ');
    const cpu = runs[kind]!.map((x) => x.cpuPerRequest.toFixed(0)).join(', ');
    return `| ${label} | ${r.rps.toFixed(0)} (${all}) | ${r.p99} | ${(r.rps / bare).toFixed(2)} | ${(r.rps / yoga).toFixed(2)} | ${cpu} | ${r.non2xx} |`;
  };
  const round = (i: number) =>
    `round ${i + 1}: Alertwire ${(runs.alertwire![i]!.rps / runs.bare![i]!.rps).toFixed(2)} of bare, ${(runs.alertwire![i]!.rps / runs.yoga![i]!.rps).toFixed(2)} of minimal yoga`;
  replaceSection(
    'API read',
    `## API read (PostgreSQL)

Recorded by \`npm run bench:api\` on ${recordedOn()}:
autocannon, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds (runs interleaved; the best
of each server shown, every run in brackets), each server in a process of its own on one
PostgreSQL. Query: \`${READ}\` with an API key. Alertwire runs \`dist/src/main.js\` with
NODE_ENV=production, no delivery worker and RATE_LIMIT_MAX=1000000 (every request is still
charged). Goal: Alertwire ≥ 0.8 × the bare server.

| server | req/s | p99 ms | vs bare | vs minimal yoga | server CPU µs/request (each run) | non-2xx |
|---|---:|---:|---:|---:|---:|---:|
${row('bare node:http + postgres.js (same two queries)', 'bare')}
${row('minimal graphql-yoga (same two queries)', 'yoga')}
${row('Alertwire', 'alertwire')}
${row('Alertwire, `{ __typename }`', 'typename')}

Per round (same minutes): ${runs.alertwire!.map((_, i) => round(i)).join('; ')}.
`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await source.destroy();
}
