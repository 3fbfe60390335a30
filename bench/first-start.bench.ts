// Time from spawning the server to the first 200 from GET /ready, on a fresh DATA_DIR and on
// the same DATA_DIR again. `npm run bench:start` (builds first if needed); results → RESULTS.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, recordedOn, replaceSection } from './results-file.js';

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

/** Wall time to the first 200 from /ready, and the CPU the process had used by then. */
async function timeToReady(command: string[], dataDir: string): Promise<{ wall: number; cpu: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let ready = false;
  try {
    while (performance.now() - started < DEADLINE_MS) {
      if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) {
        ready = true;
        return { wall: (performance.now() - started) / 1000, cpu: cpuSeconds(child.pid!) };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`not ready within ${DEADLINE_MS} ms`);
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    // A server killed before it was ready has no handlers yet: the error above is the one to see.
    // biome-ignore lint/correctness/noUnsafeFinally: a server that does not stop cleanly fails the bench too
    if (ready && code !== 0) throw new Error(`${command.join(' ')} did not stop cleanly on SIGTERM (exit ${code})`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;


const commands: [string, string[]][] = [
  ['`node dist/src/main.js`', [process.execPath, 'dist/src/main.js']],
  ['`npm start` (npm, then scripts/run-built.mjs: freshness check and server in one process)', ['npm', 'start', '--silent']],
  ['`tsx src/main.ts` (the old `npm start` command, on this code)', [process.execPath, '--import', 'tsx', 'src/main.ts']],
];

const rows: string[] = [];
const cpuRows: string[] = [];
for (const [label, command] of commands) {
  const fresh: { wall: number; cpu: number }[] = [];
  const existing: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-bench-start-'));
    try {
      fresh.push(await timeToReady(command, dataDir));
      existing.push(await timeToReady(command, dataDir));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const show = (xs: number[]) => `${median(xs).toFixed(2)} s (${xs.map((x) => x.toFixed(2)).join(', ')})`;
  rows.push(`| ${label} | ${show(fresh.map((r) => r.wall))} | ${show(existing.map((r) => r.wall))} |`);
  // npm's own pid is not the server's: CPU only where the spawned process is the server.
  if (command[0] === process.execPath) {
    cpuRows.push(`| ${label} | ${show(fresh.map((r) => r.cpu))} | ${show(existing.map((r) => r.cpu))} |`);
  }
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

CPU time the server process had used (all threads: main, PGlite's, V8's) when /ready first
answered 200; less dependent on the machine's load than the wall time above. With the embedded
database in its own thread, a quiet 2-core machine runs the two in parallel.

| command | CPU, fresh DATA_DIR | CPU, existing DATA_DIR |
|---|---:|---:|
${cpuRows.join('\n')}
`,
);
