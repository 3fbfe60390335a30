import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every path under dir (dir included) whose mode lets group or others in, with its mode. */
export function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const visit = (file: string) => {
    const stat = statSync(file);
    if ((stat.mode & 0o077) !== 0) found.push(`${path.relative(dir, file) || '.'} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(file)) visit(path.join(file, name));
  };
  visit(dir);
  return found;
}
