/**
 * A value made from a module loaded on demand (a dynamic import: a chunk of its own in dist/, left
 * out of the start). Loading starts at once. A failed load is not kept: the next caller tries
 * again (a rebuild can remove a chunk a running server has not loaded yet), and no rejection
 * goes unhandled meanwhile.
 */
export function loadLater<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  const start = () => {
    const attempt = load();
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
    return attempt;
  };
  loading = start();
  return () => (loading ??= start());
}
