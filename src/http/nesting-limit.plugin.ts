import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const MAX_NESTING = 64;

/**
 * graphql-js parses recursively: a list literal nested ~2000 deep (fewer tokens than the token
 * limit) overflows the call stack. Count bracket nesting in the text before it is parsed.
 */
export function useNestingLimit(maxNesting = MAX_NESTING): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (nestingOf(source, maxNesting) > maxNesting) {
        throw new GraphQLError(`Syntax Error: Nesting limit of ${maxNesting} exceeded.`, {
          extensions: { code: 'GRAPHQL_PARSE_FAILED' },
        });
      }
    },
  };
}

/** Deepest {, [ or ( nesting outside strings and comments; stops counting past `stopAt`. */
function nestingOf(text: string, stopAt: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length && deepest <= stopAt; i++) {
    const c = text[i];
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (c === '"') {
      const block = text.startsWith('"""', i);
      const end = block ? '"""' : '"';
      i += end.length;
      while (i < text.length && !text.startsWith(end, i)) i += text[i] === '\\' ? 2 : 1;
      i += end.length - 1;
    } else if (c === '{' || c === '[' || c === '(') {
      deepest = Math.max(deepest, ++depth);
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
    }
  }
  return deepest;
}
