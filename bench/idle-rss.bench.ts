// `npx tsx bench/idle-rss.bench.ts`: resident memory of an idle embedded server (`npm start` on
// PGlite, worker on): first start on an empty DATA_DIR (initdb), then a restart on the same
// folder; RSS read from /proc after 10 s idle. 127.0.0.1 only, bounded in time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-rss-'));

async function idleRss(label: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no "listening" within 120 s')), 120_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Alertwire is listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const ready = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    console.log(`${label}: listening after ${ready.toFixed(1)} s; RSS after 10 s idle ${rssMb(child.pid!).toFixed(0)} MB`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

try {
  await idleRss('first start (empty DATA_DIR)');
  await idleRss('restart (same DATA_DIR)');
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
