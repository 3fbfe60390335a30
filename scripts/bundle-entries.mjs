// Part of `npm run build`, after tsc: replaces tsc's dist/src/main.js and dist/src/worker-main.js
// with esbuild bundles of the same entry points. Node 20 loading ~900 separate ES and CommonJS
// modules (yoga, Pothos, drizzle, …) cost about a second of a start on a 2-core machine; one
// bundle loads in a third of that (bench/RESULTS.md, first start). Everything else in dist/ stays
// tsc's output. Code shared by the two entries, and the GraphiQL page (loaded on first request),
// go to dist/src/chunks/.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(new URL('../dist/src/chunks', import.meta.url), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts', 'src/worker-main.ts'],
  outbase: 'src',
  outdir: 'dist/src',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // PGlite finds its WASM and data files next to its own module, and its thread loads it by path.
  external: ['@electric-sql/pglite'],
  // CommonJS packages inside an ES module bundle still call require() for Node's built-ins, and
  // some name __dirname (ioredis, in guarded paths): both must exist in every chunk.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
  logLevel: 'warning',
});
