import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PrivateRedis {
  url: string;
  pid: number;
  /** SIGSTOP: the process keeps its sockets open and answers nothing. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  stop(): Promise<void>;
}

/** A redis-server of this test's own, on a free port, stopped by its pid. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test worker that dies (a timeout) must not leave the server behind.
  const orphanGuard = () => child.exitCode === null && process.kill(pid, 'SIGKILL');
  process.once('exit', orphanGuard);
  await until(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 'redis-server start');
  return {
    url: `redis://127.0.0.1:${port}`,
    pid,
    freeze: () => process.kill(pid, 'SIGSTOP'),
    thaw: () => process.kill(pid, 'SIGCONT'),
    async stop() {
      process.off('exit', orphanGuard);
      if (child.exitCode !== null) return;
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  /** postgres://…/postgres on the private port. */
  url: string;
  port: number;
  start(): Promise<void>;
  /** pg_ctl stop -m immediate: the server is gone at once, as in a crash or lost network. */
  stop(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open and nothing answers. */
  freeze(): void;
  /** SIGCONT to what freeze() stopped. */
  thaw(): void;
  destroy(): Promise<void>;
}

/** A PostgreSQL cluster of this test's own (initdb in a temp dir, its own port). */
export async function createPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertwire-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  // initdb refuses to run as root: run as the postgres user when we are root.
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asUser.length > 0) spawnSync('chown', ['postgres', dir]);
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...asUser, ...args];
    const result = spawnSync(cmd!, rest, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  };
  run([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  let frozen: number[] = [];
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {} // a backend that exited meanwhile
  };
  const thaw = () => {
    for (const pid of frozen) signal(pid, 'SIGCONT');
    frozen = [];
  };
  // A test worker that dies (a timeout) must not leave stopped processes behind.
  process.once('exit', thaw);
  const pg: PrivatePostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      run([`${PG_BIN}/pg_ctl`, '-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
    },
    async stop() {
      run([`${PG_BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    freeze() {
      const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      // The postmaster first: a frozen postmaster forks no backend after the list below is read.
      signal(postmaster, 'SIGSTOP');
      frozen.push(postmaster);
      const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const pid of children.map(Number)) {
        signal(pid, 'SIGSTOP');
        frozen.push(pid);
      }
    },
    thaw,
    async destroy() {
      thaw();
      process.off('exit', thaw);
      spawnSync(asUser[0] ?? `${PG_BIN}/pg_ctl`, [...asUser.slice(1), ...(asUser.length ? [`${PG_BIN}/pg_ctl`] : []), '-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}
