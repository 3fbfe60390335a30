import type { Plugin } from 'graphql-yoga';

// biome-ignore lint/suspicious/noExplicitAny: each plugin types its own server context; they all share yoga's one
type AnyPlugin = Plugin<any, any>;
type OnRequest = NonNullable<AnyPlugin['onRequest']>;
type OnResponse = NonNullable<AnyPlugin['onResponse']>;
type RequestPayload = Parameters<OnRequest>[0];
type ResponsePayload = Parameters<OnResponse>[0];
type OnExecute = NonNullable<AnyPlugin['onExecute']>;
type ExecutePayload = Parameters<OnExecute>[0];
type ExecuteHookResult = Exclude<Awaited<ReturnType<OnExecute>>, void>;
type OnExecuteDone = NonNullable<ExecuteHookResult['onExecuteDone']>;
type ExecuteDonePayload = Parameters<OnExecuteDone>[0];
type StreamHooks = Exclude<Awaited<ReturnType<OnExecuteDone>>, void>;
type OnNext = NonNullable<StreamHooks['onNext']>;
type OnEnd = NonNullable<StreamHooks['onEnd']>;

/** Our plugins with their per-request hooks run as one each: see the two functions below. */
export function withCombinedHooks(plugins: AnyPlugin[]): AnyPlugin[] {
  return withCombinedExecuteHooks(withCombinedHttpHooks(plugins));
}

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

/**
 * The `plugins`, with their onExecute hooks (and the onExecuteDone hooks these return) run by one
 * each, in the plugins' order, for the same reason as withCombinedHttpHooks: envelop steps
 * through each plugin's hook, and each one's onExecuteDone, in promise-like chains of its own.
 * As in envelop, the first hook that sets the result (setResultAndStopExecution) ends the loop,
 * and the onExecuteDone hooks of those that ran see it. The hooks must be synchronous.
 */
export function withCombinedExecuteHooks(plugins: AnyPlugin[]): AnyPlugin[] {
  const onExecute = plugins.flatMap((plugin) => plugin.onExecute ?? []);
  const combined: AnyPlugin = {
    onExecute(payload) {
      let stopped = false;
      const own: ExecutePayload = {
        ...payload,
        setExecuteFn(executeFn) {
          own.executeFn = executeFn;
          payload.setExecuteFn(executeFn);
        },
        setResultAndStopExecution(result) {
          stopped = true;
          payload.setResultAndStopExecution(result);
        },
      };
      const done: OnExecuteDone[] = [];
      for (const hook of onExecute) {
        const after = synchronous(hook(own));
        if (after?.onExecuteDone) done.push(after.onExecuteDone);
        if (stopped) break;
      }
      return done.length === 0 ? undefined : { onExecuteDone: (finished) => runDone(done, finished) };
    },
  };
  const rest = plugins.map(({ onExecute: _execute, ...other }) => other);
  return [combined, ...rest];
}

function runDone(hooks: OnExecuteDone[], payload: ExecuteDonePayload): StreamHooks | undefined {
  let { result } = payload;
  const onNext: OnNext[] = [];
  const onEnd: OnEnd[] = [];
  for (const hook of hooks) {
    const stream = synchronous(
      hook({
        args: payload.args,
        result,
        setResult(changed) {
          result = changed;
          payload.setResult(changed);
        },
      }),
    );
    if (stream?.onNext) onNext.push(stream.onNext);
    if (stream?.onEnd) onEnd.push(stream.onEnd);
  }
  if (onNext.length === 0 && onEnd.length === 0) return undefined;
  return {
    // Each value of a stream (incremental delivery) goes through the onNext hooks in order.
    onNext: (next) => {
      let value = next.result;
      for (const hook of onNext) {
        synchronous(
          hook({
            ...next,
            result: value,
            setResult(changed) {
              value = changed;
              next.setResult(changed);
            },
          }),
        );
      }
    },
    onEnd: () => {
      for (const hook of onEnd) hook();
    },
  };
}

function synchronous<T>(value: T | Promise<T>): T {
  if (isPromiseLike(value)) throw new Error('a combined execute hook returned a promise; it must be synchronous');
  return value;
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
