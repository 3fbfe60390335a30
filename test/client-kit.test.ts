import { readFileSync } from 'node:fs';
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
});
