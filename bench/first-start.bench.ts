// Time from spawning the server to the first 200 from GET /ready, on a fresh DATA_DIR and on
// the same DATA_DIR again. `npm run bench:start` (builds first if needed); results → RESULTS.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordedOn, replaceSection } from './results-file.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const DEADLINE_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function timeToReady(command: string[], dataDir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    while (performance.now() - started < DEADLINE_MS) {
      if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`not ready within ${DEADLINE_MS} ms`);
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`${command.join(' ')} did not stop cleanly on SIGTERM (exit ${code})`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const commands: [string, string[]][] = [
  ['`node dist/src/main.js`', [process.execPath, 'dist/src/main.js']],
  ['`npm start` (npm + the prestart freshness check)', ['npm', 'start', '--silent']],
  ['`tsx src/main.ts` (before: the old `npm start`)', [process.execPath, '--import', 'tsx', 'src/main.ts']],
];

const rows: string[] = [];
for (const [label, command] of commands) {
  const fresh: number[] = [];
  const existing: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-bench-start-'));
    try {
      fresh.push(await timeToReady(command, dataDir));
      existing.push(await timeToReady(command, dataDir));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const show = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} s (${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`;
  rows.push(`| ${label} | ${show(fresh)} | ${show(existing)} |`);
  console.log(rows.at(-1));
}

replaceSection(
  'First start',
  `## First start

Recorded by \`npm run bench:start\` on ${recordedOn()}:
time from spawning the command to the first 200 from \`GET /ready\` (polled every 10 ms), on an
empty \`DATA_DIR\` (fresh) and then on that same folder (existing). Median of ${RUNS} runs, each run in
brackets. Goal: fresh ≤ 3 s, existing ≤ 1.5 s.

| command | fresh DATA_DIR | existing DATA_DIR |
|---|---:|---:|
${rows.join('\n')}
`,
);
