import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { withoutHttpExtension } from './status-codes.plugin.js';

const BOUNDARY = 'graphql';
const HEARTBEAT_MS = 5000;

/**
 * Subscriptions over Apollo's multipart HTTP protocol (what HttpLink asks for with
 * `Accept: multipart/mixed;subscriptionSpec=1.0`): every event is a part `{"payload": …}`, and
 * an empty `{}` part every 5 s keeps proxies from closing an idle stream. yoga serves multipart
 * only for queries with @defer/@stream and answered such subscriptions 406.
 */
export function useMultipartSubscriptions(): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      const accept = request.headers.get('accept') ?? '';
      if (!/multipart\/mixed[^,]*subscriptionSpec/i.test(accept)) return;
      // A refused subscription (TOO_MANY_STREAMS, UNAUTHENTICATED) is one result, not a stream:
      // sent as one part when the client takes nothing else (yoga had no answer for it: an empty 406).
      if (!isAsyncIterable(result) && resultProcessor) return;
      setResultProcessor((input, fetchAPI) => multipartResponse(isAsyncIterable(input) ? input : once(input as ExecutionResult), fetchAPI), 'multipart/mixed');
    },
  };
}

async function* once(result: ExecutionResult): AsyncGenerator<ExecutionResult> {
  yield result;
}

function multipartResponse(events: AsyncIterable<ExecutionResult>, fetchAPI: { Response: typeof Response; ReadableStream: typeof ReadableStream; TextEncoder: typeof TextEncoder }): Response {
  const encoder = new fetchAPI.TextEncoder();
  const part = (json: string) => encoder.encode(`\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--${BOUNDARY}`);
  const iterator = events[Symbol.asyncIterator]();
  let heartbeat: NodeJS.Timeout | undefined;
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`\r\n--${BOUNDARY}`));
      heartbeat = setInterval(() => controller.enqueue(part('{}')), HEARTBEAT_MS);
      heartbeat.unref();
    },
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) {
          clearInterval(heartbeat);
          controller.enqueue(encoder.encode('--\r\n'));
          controller.close();
          return;
        }
        controller.enqueue(part(JSON.stringify({ payload: withoutHttpExtension(value) })));
      } catch (error) {
        clearInterval(heartbeat);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(heartbeat);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: {
      'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
      'cache-control': 'no-cache',
    },
  });
}
