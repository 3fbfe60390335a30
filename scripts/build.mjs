// `npm run build`: esbuild bundles each entry point — the server, the worker and the scripts that
// run compiled — into dist/, then makes the embedded database's template. Node 20 loading ~900
// separate ES and CommonJS modules (yoga, Pothos, drizzle, …) cost about a second of every start
// on a 2-core machine; one bundle loads in a fraction of that (bench/RESULTS.md, first start).
// Types are checked by `npm run typecheck` (tsc), not here: building needs no dev dependency, so
// `npm ci --omit=dev && npm start` works. Code the entries share, and the GraphiQL page (loaded on
// its first request), go to dist/chunks/.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

// graphql ships CommonJS (.js) and ES modules (.mjs) side by side and has no "exports" map.
// Packages that require() it (graphql-rate-limit, Armor, …) made esbuild bundle the CommonJS
// copy for everyone, and every ES importer — yoga's executor on each field of each request —
// then read each export through two getters (esbuild's interop and graphql's re-exports):
// ~2 % of a read's CPU. Every import of graphql gets the ES module instead, and each require()
// a shared CommonJS wrapper of it: required directly, the ES module's ~450 exports would be
// copied anew at each of the ~70 call sites, on every start.
const graphqlAsEsm = {
  name: 'graphql-as-esm',
  setup(build) {
    build.onResolve({ filter: /^graphql(\/.*)?$/ }, (args) => {
      let cjs;
      try {
        cjs = createRequire(path.join(args.resolveDir, 'x.js')).resolve(args.path);
      } catch {
        return undefined; // esbuild's own resolution reports it
      }
      const esm = cjs.replace(/\.js$/, '.mjs');
      if (esm === cjs || !existsSync(esm)) return undefined; // graphql/package.json, say
      // The wrapper keeps the .js name: a .mjs one would be taken for an ES module.
      return args.kind === 'require-call' ? { path: path.relative(root, cjs), namespace: 'graphql-required' } : { path: esm };
    });
    build.onLoad({ filter: /.*/, namespace: 'graphql-required' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`./${path.basename(args.path, '.js')}.mjs`)});`,
      resolveDir: path.join(root, path.dirname(args.path)),
      loader: 'js',
    }));
  },
};

const dist = path.join(root, 'dist');
// Built beside dist/ and swapped in whole: a server starting meanwhile, or a second build racing
// this one, never loads half of one build and half of another.
const out = path.join(root, `dist.build-${process.pid}`);
rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts', 'src/worker-main.ts', 'scripts/migrate.ts', 'scripts/import-quotes.ts', 'scripts/receiver.ts', 'scripts/write-pglite-template.ts'],
  outbase: '.',
  outdir: out,
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
      "import { dirname as __pathDirname } from 'node:path';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join(' '),
  },
  plugins: [graphqlAsEsm],
  logLevel: 'warning',
});
execFileSync(process.execPath, [path.join(out, 'scripts', 'write-pglite-template.js'), path.join(out, 'pglite-template', 'pgdata')], {
  cwd: root,
  stdio: 'inherit',
});
writeFileSync(path.join(out, '.build-stamp'), '');
const old = path.join(root, `dist.old-${process.pid}`);
try {
  renameSync(dist, old);
} catch (error) {
  if (error.code !== 'ENOENT') throw error;
}
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
