import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit (SIGKILL and an error after 15 s); a process already gone resolves at once. */
  stop(): Promise<void>;
}

/** An entry point (src/main.ts, src/worker-main.ts) in a process of its own; resolves once it says `readyText`. */
export async function startProcess(entry: string, env: Record<string, string>, readyText: string, timeoutMs = 60_000): Promise<RunningProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const running: RunningProcess = {
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`${entry} did not stop on SIGTERM: ${output.slice(-2000)}`);
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (!output.includes(readyText)) {
    if (child.exitCode !== null) throw new Error(`${entry} exited: ${output}`);
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`${entry} did not start within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return running;
}
