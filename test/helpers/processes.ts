import { spawn, type ChildProcess } from 'node:child_process';
import { compiled, repositoryRoot } from './compiled.js';
import { HANG_MS } from './receiver.js';

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit (SIGKILL and an error after HANG_MS); a process already gone resolves at once. */
  stop(): Promise<void>;
}

/** An entry point (src/main.ts, src/worker-main.ts), compiled, in a process of its own; resolves once it says `readyText`. */
export async function startProcess(entry: string, env: Record<string, string>, readyText: string, timeoutMs = HANG_MS): Promise<RunningProcess> {
  const child = spawn(process.execPath, [compiled(entry)], { cwd: repositoryRoot, env: { ...process.env, ...env } });
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
      const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
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
