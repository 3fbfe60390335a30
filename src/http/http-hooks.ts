import type { Plugin } from 'graphql-yoga';

// biome-ignore lint/suspicious/noExplicitAny: each plugin types its own server context; they all share yoga's one
type AnyPlugin = Plugin<any, any>;
type OnRequest = NonNullable<AnyPlugin['onRequest']>;
type OnResponse = NonNullable<AnyPlugin['onResponse']>;
type RequestPayload = Parameters<OnRequest>[0];
type ResponsePayload = Parameters<OnResponse>[0];

/**
 * The `plugins`, with their onRequest and onResponse hooks run by one hook each, in the plugins'
 * order; every other hook stays where it was. yoga runs each plugin's HTTP hook in a chain of
 * promise-like steps of its own — a third of a read's allocations — and every hook after one that
 * awaits (the body's) in real promises; here they are one plain loop. As in yoga, a hook sees the
 * request as set by the hooks before it, and the first that answers (endResponse) ends the loop.
 */
export function withCombinedHttpHooks(plugins: AnyPlugin[]): AnyPlugin[] {
  const onRequest = plugins.flatMap((plugin) => plugin.onRequest ?? []);
  const onResponse = plugins.flatMap((plugin) => plugin.onResponse ?? []);
  const combined: AnyPlugin = {
    onRequest(payload) {
      let answered = false;
      const own: RequestPayload = {
        ...payload,
        setRequest(request) {
          own.request = request;
          payload.setRequest(request);
        },
        endResponse(response) {
          answered ||= Boolean(response);
          payload.endResponse(response);
        },
      };
      return runFrom(0, onRequest, own, () => answered);
    },
    onResponse(payload) {
      const own: ResponsePayload = {
        ...payload,
        setResponse(response) {
          own.response = response;
          payload.setResponse(response);
        },
      };
      return runFrom(0, onResponse, own, () => false);
    },
  };
  const rest = plugins.map(({ onRequest: _request, onResponse: _response, ...other }) => other);
  return [combined, ...rest];
}

/** Runs hooks[from..] in order; synchronous while they are, awaiting one only when it returns a promise. */
function runFrom<P>(from: number, hooks: ((payload: P) => unknown)[], payload: P, stop: () => boolean): Promise<void> | undefined {
  for (let i = from; i < hooks.length; i++) {
    const pending = hooks[i]!(payload);
    if (isPromiseLike(pending)) return Promise.resolve(pending).then(() => (stop() ? undefined : runFrom(i + 1, hooks, payload, stop)));
    if (stop()) return undefined;
  }
  return undefined;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
