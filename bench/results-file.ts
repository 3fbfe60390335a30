import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const FILE = new URL('RESULTS.md', import.meta.url);

/** Replaces (or appends) the section between `<!-- name -->` and `<!-- end name -->` in RESULTS.md. */
export function replaceSection(name: string, body: string): void {
  const section = `<!-- ${name} -->\n${body.trimEnd()}\n<!-- end ${name} -->\n`;
  const previous = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`<!-- ${escaped} -->[\\s\\S]*?<!-- end ${escaped} -->\\n`);
  writeFileSync(FILE, pattern.test(previous) ? previous.replace(pattern, section) : `${previous.trimEnd()}\n\n${section}`);
}
