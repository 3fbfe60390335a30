import { visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { codedError } from '../errors.js';

const MESSAGE = 'Text must not contain NUL characters (U+0000)';

/**
 * PostgreSQL cannot store U+0000 in text, so a NUL in any argument would fail deep in a
 * database call as an internal error. Refuse it up front, in literals and variables alike.
 */
export function useRejectNulBytes(): Plugin {
  const refusal = () => ({ errors: [codedError('BAD_USER_INPUT', MESSAGE)] });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (hasNul(args.document, args.variableValues)) setResultAndStopExecution(refusal());
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (hasNul(args.document, args.variableValues)) setResultAndStopExecution(refusal());
    },
  };
}

function hasNul(document: DocumentNode, variables: unknown): boolean {
  return containsNul(variables) || documentHasNul(document);
}

// yoga's parse cache hands out one DocumentNode per query text, so each is visited once.
const documentVerdicts = new WeakMap<DocumentNode, boolean>();

function documentHasNul(document: DocumentNode): boolean {
  let found = documentVerdicts.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      StringValue(node) {
        if (node.value.includes('\0')) found = true;
      },
    });
    documentVerdicts.set(document, found);
  }
  return found;
}

// Iterative: variables may nest as deep as a 100 kB body allows, deeper than the call stack.
function containsNul(root: unknown): boolean {
  if (root == null) return false;
  const pending = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string' && value.includes('\0')) return true;
    if (value && typeof value === 'object') for (const child of Object.values(value)) pending.push(child);
  }
  return false;
}
