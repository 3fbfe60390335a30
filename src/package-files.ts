import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root folder. This module runs from src/ (tsx, tests) and from dist/src/
 * (compiled), so the root is found by what it holds rather than by a fixed number of `..`.
 */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'drizzle', 'meta', '_journal.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('the drizzle/ migrations folder is missing from the package');
    dir = parent;
  }
  return dir;
}

const root = packageRoot();

export const PACKAGE_JSON_FILE = path.join(root, 'package.json');

/** The SQL migrations, as drizzle-kit writes them. */
export const MIGRATIONS_FOLDER = path.join(root, 'drizzle');

/** The compiled output of `npm run build`. */
const BUILD_FOLDER = path.join(root, 'dist');

/**
 * A migrated PGlite data folder made by `npm run build`; an empty DATA_DIR starts as a copy of
 * it instead of running initdb (seconds of WASM work) on the first start.
 */
export const PGLITE_TEMPLATE_DIR = path.join(BUILD_FOLDER, 'pglite-template', 'pgdata');
