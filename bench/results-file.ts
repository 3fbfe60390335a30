import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

const FILE = new URL('RESULTS.md', import.meta.url);

/** Replaces (or appends) the section between `<!-- name -->` and `<!-- end name -->` in RESULTS.md. */
export function replaceSection(name: string, body: string): void {
  const section = `<!-- ${name} -->\n${body.trimEnd()}\n<!-- end ${name} -->\n`;
  const previous = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`<!-- ${escaped} -->[\\s\\S]*?<!-- end ${escaped} -->\\n`);
  writeFileSync(FILE, pattern.test(previous) ? previous.replace(pattern, section) : `${previous.trimEnd()}\n\n${section}`);
}

/** When and on what a run was recorded: shared 2-core machines make every figure load-dependent. */
export function recordedOn(): string {
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return `${when} UTC, Node ${process.version}, 1-minute load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
}
