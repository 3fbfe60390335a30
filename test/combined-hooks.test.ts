import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { withCombinedExecuteHooks, withCombinedHttpHooks } from '../src/http/combined-hooks.js';

const schema = createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } });

function appWith(plugins: Plugin[]) {
  return createYoga({ schema, logging: false, plugins: withCombinedHttpHooks(plugins) });
}

const query = (path = '/graphql') =>
  new Request(`http://127.0.0.1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hello }' }) });

describe('HTTP hooks run as one', () => {
  it('runs every onRequest in order, awaiting one that returns a promise, each seeing the request set before it', async () => {
    const seen: string[] = [];
    const app = appWith([
      { onRequest: ({ request }) => void seen.push(`first ${request.headers.get('x-step') ?? '-'}`) },
      {
        async onRequest({ request, setRequest }) {
          await new Promise((resolve) => setImmediate(resolve));
          const headers = new Headers(request.headers);
          headers.set('x-step', 'set by the second');
          setRequest(new Request(request.url, { method: request.method, headers, body: await request.text() }));
        },
      },
      { onRequest: ({ request }) => void seen.push(`third ${request.headers.get('x-step')}`) },
    ]);
    const res = await app.fetch(query());
    expect(await res.json()).toEqual({ data: { hello: 'world' } });
    expect(seen).toEqual(['first -', 'third set by the second']);
  });

  it('stops at the first hook that answers, and still runs every onResponse in order on its answer', async () => {
    const ran: string[] = [];
    const app = appWith([
      {
        onRequest: ({ url, endResponse }) => {
          if (url.pathname === '/refused') endResponse(new Response('no', { status: 418 }));
        },
        onResponse: ({ response }) => response.headers.append('x-order', 'first'),
      },
      {
        onRequest: () => void ran.push('after the refusal'),
        onResponse: ({ response, setResponse }) =>
          setResponse(new Response(response.body, { status: response.status, headers: { 'x-order': `${response.headers.get('x-order')}, replaced` } })),
      },
      { onResponse: ({ response }) => response.headers.append('x-order', 'third') },
    ]);
    const refused = await app.fetch(query('/refused'));
    expect(refused.status).toBe(418);
    expect(await refused.text()).toBe('no');
    expect(refused.headers.get('x-order')).toBe('first, replaced, third');
    expect(ran).toEqual([]);

    const answered = await app.fetch(query());
    expect(answered.status).toBe(200);
    expect(ran).toEqual(['after the refusal']);
  });

  it('keeps the plugins’ other hooks', async () => {
    const parsed: string[] = [];
    const app = appWith([{ onRequest: () => {}, onParse: ({ params }) => void parsed.push(String(params.source)) }]);
    await app.fetch(query());
    expect(parsed).toEqual(['{ hello }']);
  });
});

describe('execute hooks run as one', () => {
  const app = (plugins: Plugin[]) => createYoga({ schema, logging: false, plugins: withCombinedExecuteHooks(plugins) });

  it('runs every onExecute in order, and each onExecuteDone sees the result the one before it set', async () => {
    const seen: string[] = [];
    const tag = (name: string): Plugin => ({
      onExecute: () => {
        seen.push(`execute ${name}`);
        return {
          onExecuteDone: ({ result, setResult }) => {
            const { data } = result as { data: { hello: string } };
            seen.push(`done ${name}: ${data.hello}`);
            setResult({ data: { hello: `${data.hello} ${name}` } });
          },
        };
      },
    });
    const res = await app([tag('a'), { onExecute: () => void seen.push('execute b') }, tag('c')]).fetch(query());
    expect(await res.json()).toEqual({ data: { hello: 'world a c' } });
    expect(seen).toEqual(['execute a', 'execute b', 'execute c', 'done a: world', 'done c: world a']);
  });

  it('stops at the hook that sets the result: later hooks do not run, earlier ones see that result', async () => {
    const seen: string[] = [];
    const res = await app([
      { onExecute: () => ({ onExecuteDone: ({ result }) => void seen.push(`done first: ${JSON.stringify(result)}`) }) },
      { onExecute: ({ setResultAndStopExecution }) => setResultAndStopExecution({ data: { hello: 'refused' } }) },
      { onExecute: () => void seen.push('third ran') },
    ]).fetch(query());
    expect(await res.json()).toEqual({ data: { hello: 'refused' } });
    expect(seen).toEqual(['done first: {"data":{"hello":"refused"}}']);
  });
});
