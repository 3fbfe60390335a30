import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// postgres.js keeps its pool's connections in queues (src/queue.js). Upstream, a queue that never
// empties — every connection busy, as under sustained load — grew by one slot per push for ever,
// and each move of a connection scanned all of it: a server's queries got slower the longer the
// load lasted (bench/RESULTS.md, "API read"). scripts/patches/ fixes it at install; this checks the
// installed copy, the one the app and the tests run.
const require = createRequire(import.meta.url);
const queueFile = path.join(path.dirname(require.resolve('postgres')), 'queue.js');
type Queue<T> = { readonly length: number; push(x: T): T; shift(): T | undefined; remove(x: T): T | null };
const { default: Queue } = (await import(queueFile)) as { default: <T>(initial?: T[]) => Queue<T> };

const originalIndexOf = Array.prototype.indexOf;
afterEach(() => {
  Array.prototype.indexOf = originalIndexOf;
});

/** The lengths of the arrays `remove` searches while `run` runs. */
function searchedLengths(run: () => void): number[] {
  const lengths: number[] = [];
  Array.prototype.indexOf = function (this: unknown[], ...args: [unknown, number?]) {
    lengths.push(this.length);
    return originalIndexOf.apply(this, args);
  };
  try {
    run();
  } finally {
    Array.prototype.indexOf = originalIndexOf;
  }
  return lengths;
}

describe("postgres.js's connection queue (patched at install)", () => {
  it('stays bounded when it never empties', () => {
    const queue = Queue<object>();
    const live = [{}, {}, {}];
    for (const item of live) queue.push(item);
    // A pool kept busy: connections come and go, the queue is never drained.
    for (let i = 0; i < 100_000; i++) queue.push(queue.shift()!);
    const lengths = searchedLengths(() => expect(queue.remove(live[1]!)).toBe(live[1]));
    expect(lengths.length).toBeGreaterThan(0);
    expect(Math.max(...lengths)).toBeLessThan(3000);
  });

  it('is still a FIFO queue whose items can be removed from anywhere', () => {
    const queue = Queue<string>(['a', 'b']);
    queue.push('c');
    queue.push('d');
    expect(queue.shift()).toBe('a');
    expect(queue.remove('a')).toBeNull(); // shifted already
    expect(queue.remove('c')).toBe('c');
    expect(queue.length).toBe(2);
    expect([queue.shift(), queue.shift()]).toEqual(['b', 'd']);
    expect(queue.length).toBe(0);
    queue.push('e');
    expect(queue.length).toBe(1);
    expect(queue.shift()).toBe('e');
  });

  it('keeps its order across the compaction of a long run', () => {
    const queue = Queue<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      queue.push(i);
      if (i % 2 === 1) out.push(queue.shift()!, queue.shift()!);
      else if (i > 0 && i % 10 === 0) queue.push(queue.shift()!); // never empty here: i was pushed
    }
    while (queue.length > 0) out.push(queue.shift()!);
    expect(out).toHaveLength(5000);
    expect(new Set(out).size).toBe(5000);
  });
});
