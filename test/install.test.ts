import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<
    string,
    {
      version?: string;
      engines?: { node?: string } | string[];
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    }
  >;
};

describe('installation', () => {
  it('runs on the Node.js it runs on', () => {
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  // `npm ci --engine-strict` refuses a package whose engines exclude the running Node; every
  // Node that package.json promises must satisfy every locked package.
  it('promises only Node.js versions that every locked package accepts', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([name]) => name !== '')
      .flatMap(([name, entry]) => {
        const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
        if (!range) return [];
        return semver.subset(pkg.engines.node, range) ? [] : [`${name}@${entry.version}: node ${range}`];
      });
    expect(refusing).toEqual([]);
  });

  // `npm ci --omit=dev && npm start` builds dist/ on the first start: the build may use nothing
  // from devDependencies.
  it('builds with production dependencies only', () => {
    const build = readFileSync(new URL('../scripts/build.mjs', import.meta.url), 'utf8');
    const packages = [...build.matchAll(/from '([^'.][^']*)'/g)].map((m) => m[1]!).filter((name) => !name.startsWith('node:'));
    expect(packages).toContain('esbuild');
    expect(packages.filter((name) => !(name in pkg.dependencies))).toEqual([]);
  });

  // What npm reports as ERESOLVE: a package whose peer resolves to a version outside its range.
  it('gives every locked package a peer in its declared range', () => {
    const resolve = (from: string, name: string): string | undefined => {
      for (let dir = from; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
        const entry = lock.packages[`${dir}/node_modules/${name}`];
        if (entry?.version) return entry.version;
        if (!dir.includes('/node_modules/')) return lock.packages[`node_modules/${name}`]?.version;
      }
    };
    const conflicts = Object.entries(lock.packages).flatMap(([name, entry]) =>
      Object.entries(entry.peerDependencies ?? {}).flatMap(([peer, range]) => {
        const version = resolve(name, peer);
        if (!version) return entry.peerDependenciesMeta?.[peer]?.optional ? [] : [`${name}: ${peer}@${range} missing`];
        return semver.satisfies(version, range, { includePrerelease: true }) ? [] : [`${name}: ${peer}@${range}, got ${version}`];
      }),
    );
    expect(conflicts).toEqual([]);
  });
});
