import type { App } from '../../src/app.js';

export interface SseStream<T = Record<string, any>> {
  status: number;
  contentType: string | null;
  /** The next `data:` payload of the stream, parsed. */
  next(): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  close(): void;
}

/** A GraphQL subscription over server-sent events, read one message at a time. */
export async function subscribeSse<T = Record<string, any>>(app: App, query: string, apiKey?: string): Promise<SseStream<T>> {
  const controller = new AbortController();
  const response = await app.fetch('http://127.0.0.1/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify({ query }),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    async next() {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const message = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = message.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (data) return JSON.parse(data);
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffered += decoder.decode(value, { stream: true });
      }
    },
    close: () => controller.abort(),
  };
}
