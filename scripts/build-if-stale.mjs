// `npm start` (scripts/run-built.mjs) and the test suite run compiled JavaScript from dist/. This
// builds it (`npm run build`: esbuild, then the embedded database image) only when dist/ is missing or
// older than a source, so a newcomer's `npm install && npm start` still just works and later
// starts pay nothing. Plain JavaScript, so that it runs before anything is compiled.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = path.join(root, 'dist', '.build-stamp');
// The bundles hold the dependencies' code too: an install or update of any package (npm rewrites
// node_modules/.package-lock.json) makes dist/ stale.
const inputs = ['src', 'scripts', 'drizzle', 'tsconfig.json', 'package.json', 'package-lock.json', 'node_modules/.package-lock.json'];

function newestMtime(entry) {
  let stats;
  try {
    stats = statSync(entry);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  // Directories too: a deleted source changes its folder's mtime.
  let newest = stats.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

export function buildIfStale() {
  const newestInput = Math.max(...inputs.map((entry) => newestMtime(path.join(root, entry))));
  if (builtAt() >= newestInput) return;
  process.stderr.write('dist/ is missing or older than the sources: building (npm run build)…\n');
  const npm = process.env.npm_execpath;
  const [command, args] = npm ? [process.execPath, [npm, 'run', 'build']] : ['npm', ['run', 'build']];
  execFileSync(command, args, { cwd: root, stdio: ['ignore', process.stderr, 'inherit'] });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildIfStale();
