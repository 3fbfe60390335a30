import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../codegen.js';

describe('the client kit (npm run codegen)', () => {
  it('is up to date with schema.graphql and operations/', async () => {
    const outputs = (await generate({ ...config, cwd: new URL('..', import.meta.url).pathname, silent: true }, false)) as {
      filename: string;
      content: string;
    }[];
    expect(outputs.map((o) => o.filename).sort()).toEqual([
      'client/generated/gql.ts',
      'client/generated/graphql.ts',
      'client/generated/index.ts',
      'client/generated/possible-types.ts',
    ]);
    for (const { filename, content } of outputs) {
      const committed = readFileSync(new URL(`../${filename}`, import.meta.url), 'utf8');
      expect(committed, `${filename} is stale: run npm run codegen`).toBe(content);
    }
  });

  it('compiles on its own under strict TypeScript with NodeNext resolution', () => {
    const root = new URL('..', import.meta.url).pathname;
    const files = readdirSync(new URL('../client/generated/', import.meta.url)).map((f) => `client/generated/${f}`);
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
    const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', ...flags, '--verbatimModuleSyntax', ...files], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);
});
