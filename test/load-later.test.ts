import { describe, expect, it } from 'vitest';
import { loadLater } from '../src/load-later.js';

describe('loadLater (a module loaded on demand)', () => {
  it('starts loading at once and loads once for every caller', async () => {
    let loads = 0;
    const value = loadLater(async () => ++loads);
    expect(loads).toBe(1);
    expect(await Promise.all([value.get(), value.get(), value.current()])).toEqual([1, 1, 1]);
    expect(loads).toBe(1);
  });

  it('with onFirstUse, loads nothing until the first get', async () => {
    let loads = 0;
    const value = loadLater(async () => ++loads, { onFirstUse: true });
    expect(await value.current()).toBeUndefined();
    expect(loads).toBe(0);
    expect(await value.get()).toBe(1);
    expect(await value.get()).toBe(1);
  });

  it('does not keep a failed load: the caller sees the failure, the next get loads again', async () => {
    const attempts: string[] = [];
    const value = loadLater(async () => {
      attempts.push('load');
      if (attempts.length === 1) throw new Error('chunk missing');
      return 'loaded';
    });
    await expect(value.get()).rejects.toThrow('chunk missing');
    expect(await value.get()).toBe('loaded');
    expect(await value.get()).toBe('loaded');
    expect(attempts).toEqual(['load', 'load']);
  });

  it('current() waits for a load under way, and after a failure answers undefined without loading again', async () => {
    let release!: (value: string) => void;
    let loads = 0;
    const pending = loadLater(() => {
      loads++;
      return new Promise<string>((resolve) => (release = resolve));
    });
    const current = pending.current();
    release('late');
    expect(await current).toBe('late');

    const failed = loadLater(async () => {
      loads++;
      throw new Error('chunk missing');
    });
    await expect(failed.get()).rejects.toThrow('chunk missing');
    expect(await failed.current()).toBeUndefined();
    expect(loads).toBe(2);
  });

  it('leaves no unhandled rejection when nobody asks after a failed load', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      loadLater(() => Promise.reject(new Error('never asked for')));
      await new Promise((resolve) => setImmediate(resolve)); // unhandled rejections are reported before it runs
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
