import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean }>;
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
});
