import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compiled, repositoryRoot } from './helpers/compiled.js';
import { openToOthers } from './helpers/file-modes.js';
import { freePort } from './helpers/ports.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** `npm start`'s entry point (or `npm start` itself) in a process of its own, on a fresh embedded database. */
function startServer(
  port: number | string,
  command = [process.execPath, compiled('src/main.ts')],
  dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-start-')),
) {
  dirs.push(dataDir);
  const child = spawn(command[0]!, command.slice(1), {
    cwd: repositoryRoot,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const output = () => ({ stdout, stderr });
  const until = async (text: string) => {
    while (!stdout.includes(text)) {
      if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, output, until, dataDir };
}

describe('npm run worker', () => {
  it('stops cleanly on a SIGTERM that arrives while the worker and the evaluator start', async () => {
    const worker = startServer(await freePort(), [process.execPath, compiled('src/worker-main.ts')]);
    // Logged once the database is open, before the worker and the evaluator start.
    await worker.until('the embedded database belongs to one process');
    worker.child.kill('SIGTERM');
    // Without the handlers in place yet, the signal's default action killed it: exit code null.
    expect(await worker.exited).toBe(0);
    expect(worker.output().stdout).toContain('"msg":"stopped"');
    expect(existsSync(path.join(worker.dataDir, 'pgdata.lock'))).toBe(false);
  });
});

describe('npm start', () => {
  it('stops cleanly on a SIGTERM that arrives as soon as the port answers, before the worker and evaluator have started', async () => {
    const port = await freePort();
    const server = startServer(port);
    // /health answers once listening; the worker and the evaluator start after that.
    for (;;) {
      if (server.child.exitCode !== null) throw new Error(`server exited: ${server.output().stderr}`);
      const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    server.child.kill('SIGTERM');
    // Without the handlers in place yet, the signal's default action killed it: exit code null.
    expect(await server.exited).toBe(0);
    expect(server.output().stdout).toContain('"msg":"stopped"');
    expect(existsSync(path.join(server.dataDir, 'pgdata.lock'))).toBe(false);
  });

  it('serves GraphQL on a fresh embedded database and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const server = startServer(port);
    await server.until('Alertwire is listening');
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ quote(ticker: "AAPL") { ticker price } }' }),
    });
    // The demo quotes are loaded, and the field needs a key: 401 proves the real stack answered.
    expect(res.status).toBe(401);
    expect(server.output().stdout).toContain('loaded DEMO quotes');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output().stdout).toContain('"msg":"stopped"');
    expect(existsSync(path.join(server.dataDir, 'pgdata.lock'))).toBe(false);
    // The template's copy, and what PostgreSQL wrote while it ran, under the umask main.ts sets.
    expect(readdirSync(path.join(server.dataDir, 'pgdata')).length).toBeGreaterThan(5);
    expect(openToOthers(server.dataDir)).toEqual([]);
  });

  it('SIGTERM to the npm process reaches the server, which stops cleanly', async () => {
    const server = startServer(await freePort(), ['npm', 'start', '--silent']);
    await server.until('Alertwire is listening');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output().stdout).toContain('"msg":"stopped"');
    expect(existsSync(path.join(server.dataDir, 'pgdata.lock'))).toBe(false);
  });

  it('fails with one clear line when the port is taken, and releases the database', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const server = startServer(port);
      expect(await server.exited).toBe(1);
      expect(server.output().stderr.trim()).toBe(
        `Alertwire failed to start: port ${port} on 127.0.0.1 is already in use (set PORT)`,
      );
      expect(existsSync(path.join(server.dataDir, 'pgdata.lock'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  // The embedded database starts before the app loads (src/main.ts), right after the
  // configuration is read: a bad configuration must end the start before DATA_DIR is touched.
  it('a configuration error ends the start with its one line and leaves DATA_DIR untouched', async () => {
    const server = startServer('not-a-port');
    expect(await server.exited).toBe(1);
    expect(server.output().stderr).toMatch(/^Configuration error: .*PORT/);
    expect(readdirSync(server.dataDir)).toEqual([]);
  });

  it('a second server on the same DATA_DIR fails with one clear line and leaves the first one serving', async () => {
    const port = await freePort();
    const first = startServer(port);
    await first.until('Alertwire is listening');
    const second = startServer(await freePort(), undefined, first.dataDir);
    expect(await second.exited).toBe(1);
    expect(second.output().stderr.trim()).toBe(
      `Alertwire failed to start: The embedded database in ${first.dataDir} is in use by process ${first.child.pid}: stop it first, or set DATABASE_URL so several processes share a PostgreSQL`,
    );
    expect(readFileSync(path.join(first.dataDir, 'pgdata.lock'), 'utf8')).toBe(String(first.child.pid));
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
