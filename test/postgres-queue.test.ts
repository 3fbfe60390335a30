import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// postgres.js keeps its pool's connections in queues (src/queue.js). Upstream, a queue that never
// empties — every connection busy, as under sustained load — grew by one slot per push for ever,
// and each move of a connection scanned all of it: a server's queries got slower the longer the
// load lasted (bench/RESULTS.md, "API read"). scripts/patches/ fixes it at install; this checks the
// installed copy, the one the app and the tests run.
const require = createRequire(import.meta.url);
const packageDir = path.join(path.dirname(require.resolve('postgres')), '..', '..');
type Queue<T> = { readonly length: number; push(x: T): T; shift(): T | undefined; remove(x: T): T | null };
type QueueFactory = <T>(initial?: T[]) => Queue<T>;
// The ES module copy is the one the app's bundle holds; the CommonJS copy is what require() gets.
const copies: [string, QueueFactory][] = [
  ['src/queue.js', ((await import(path.join(packageDir, 'src', 'queue.js'))) as { default: QueueFactory }).default],
  ['cjs/src/queue.js', require(path.join(packageDir, 'cjs', 'src', 'queue.js')) as QueueFactory],
];

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

describe.each(copies)("postgres.js's connection queue, %s (patched at install)", (_file, Queue) => {
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

  it('keeps its order, and its removals, across the compactions of a long run', () => {
    const queue = Queue<number>();
    const model: number[] = [];
    let next = 0;
    // Never empty, so the patched queue compacts (every ~1024 shifts); removals in between.
    for (let round = 0; round < 5000; round++) {
      for (let k = 0; k < 3; k++) {
        queue.push(next);
        model.push(next++);
      }
      expect(queue.shift()).toBe(model.shift());
      expect(queue.shift()).toBe(model.shift());
      if (round % 7 === 0) {
        const victim = model[model.length >> 1]!;
        expect(queue.remove(victim)).toBe(victim);
        model.splice(model.indexOf(victim), 1);
      }
      expect(queue.length).toBe(model.length);
    }
    while (model.length > 0) expect(queue.shift()).toBe(model.shift());
    expect(queue.length).toBe(0);
  });
});
