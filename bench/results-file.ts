import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** CPU seconds a process has used, all its threads together (Linux /proc; clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used so far by every PostgreSQL process of this machine: the live ones' own, plus
 * what the postmaster has collected from the backends it reaped (a pool's connections come and
 * go). Null where /proc cannot tell (not Linux). Meaningful only when the bench's database server
 * is local and nothing else uses it.
 */
export function postgresCpuSeconds(): number | null {
  let ticks = 0;
  let seen = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    seen = true;
  }
  return seen ? ticks / 100 : null;
}
