import { fileURLToPath } from 'node:url';

/** The repository root: the working directory of every process a test spawns. */
export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The compiled JavaScript of a source file (`src/main.ts` → `dist/src/main.js`), as `npm start`
 * runs it. global-setup.ts builds dist/ when it is stale, so spawned processes skip tsx's
 * seconds of loading and test what users run.
 */
export function compiled(source: string): string {
  return `dist/${source.replace(/\.ts$/, '.js')}`;
}
