/** A value made from a module loaded on demand: see loadLater. */
export interface LoadedLater<T> {
  /** The value; after a failed load, loads again. */
  get(): Promise<T>;
  /** The value of the load under way or done, without starting one; undefined after a failure. */
  current(): Promise<T | undefined>;
}

/**
 * A value made from a module loaded on demand (a dynamic import: a chunk of its own in dist/, left
 * out of the start). Loading starts at once, or with `onFirstUse` at the first `get` (a module
 * most processes never need). A failed load is not kept: the next `get` tries again (a rebuild
 * can remove a chunk a running server has not loaded yet), and no rejection goes unhandled
 * meanwhile.
 */
export function loadLater<T>(load: () => Promise<T>, { onFirstUse = false } = {}): LoadedLater<T> {
  let loading: Promise<T> | undefined;
  const start = () => {
    const attempt = load();
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
    return attempt;
  };
  if (!onFirstUse) loading = start();
  return {
    get: () => (loading ??= start()),
    current: () => (loading ? loading.catch(() => undefined) : Promise.resolve(undefined)),
  };
}
