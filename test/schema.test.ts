import { readdirSync, readFileSync } from 'node:fs';
import {
  buildSchema,
  lexicographicSortSchema,
  parse,
  printSchema,
  validate,
  visit,
  type ASTNode,
  type FragmentDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema.js';

// The repository's own copy of the client operations (also the documents of the client kit).
const operationsDir = new URL('../operations/', import.meta.url);

/**
 * Operations of capabilities not built yet. Later work empties this list; an operation listed
 * here that already validates fails the test, so the list cannot go stale.
 */
const PENDING_OPERATIONS = new Set<string>([
]);

/** The fragments an operation spreads, directly or through other fragments. */
function usedFragments(root: ASTNode, fragments: Map<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const used = new Map<string, FragmentDefinitionNode>();
  const walk = (node: ASTNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !used.has(fragment.name.value)) {
          used.set(fragment.name.value, fragment);
          walk(fragment);
        }
      },
    });
  walk(root);
  return [...used.values()];
}

describe('schema.graphql', () => {
  it('is the printed Pothos schema (run npm run schema:print when this fails)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(lexicographicSortSchema(schema))}\n`);
  });
});

describe('client operations in operations/', () => {
  const files = readdirSync(operationsDir).filter((f) => f.endsWith('.graphql'));
  const committed = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

  for (const file of files) {
    const document = parse(readFileSync(new URL(file, operationsDir), 'utf8'));
    const fragments = new Map(
      document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d] as const] : [])),
    );
    for (const op of document.definitions) {
      if (op.kind !== 'OperationDefinition') continue;
      const key = `${file}:${op.name?.value}`;
      const errors = validate(committed, { kind: document.kind, definitions: [op, ...usedFragments(op, fragments)] });
      if (PENDING_OPERATIONS.has(key)) {
        it(`${key} is still pending (remove it from the list once it validates)`, () => {
          expect(errors.length).toBeGreaterThan(0);
        });
      } else {
        it(`${key} validates`, () => {
          expect(errors.map((e) => e.message)).toEqual([]);
        });
      }
    }
  }
});

describe('the repository is self-contained', () => {
  it('no test, script, benchmark or source file reads the shared folder beside the clone', () => {
    const roots = ['src', 'test', 'scripts', 'bench'];
    const offenders: string[] = [];
    for (const root of roots) {
      for (const entry of readdirSync(new URL(`../${root}/`, import.meta.url), { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !/\.(ts|mjs|js)$/.test(entry.name)) continue;
        const file = `${entry.parentPath}/${entry.name}`;
        // A path that climbs out of the repository towards shared/ (as the reference copy sits beside it).
        if (/\.\.\/(\.\.\/)*shared\//.test(readFileSync(file, 'utf8'))) offenders.push(file);
      }
    }
    expect(offenders).toEqual([]);
  });
});
