// `npm start` and `npm run worker`: builds dist/ when stale, then runs the compiled entry point in
// this same process. A `prestart` step cost a second node process (and npm a second script run)
// on every start; one process also means npm's SIGTERM reaches the server itself.
// Usage: node scripts/run-built.mjs src/main.js
import { buildIfStale } from './build-if-stale.mjs';

const [, , entry] = process.argv;
if (!entry) throw new Error('usage: node scripts/run-built.mjs <entry under dist/>');
buildIfStale();
await import(new URL(`../dist/${entry}`, import.meta.url).href);
