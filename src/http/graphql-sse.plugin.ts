import { randomUUID } from 'node:crypto';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';
import { setClockTimer, type Clock } from '../clock.js';
import { readApiKey } from '../modules/users/api-key.js';
import { endlessResponse } from './streaming-responses.js';

const TOKEN_HEADER = 'x-graphql-event-stream-token';
type RequestPayload = Parameters<NonNullable<Plugin['onRequest']>>[0];
/** graphql-sse's client opens its stream right after reserving it; a reservation left unopened this long is dropped. */
export const RESERVATION_OPEN_MS = 60_000;

export interface SingleConnectionOptions {
  /** The user id an API key belongs to, or null. */
  identify(key: string): Promise<string | null>;
  /** Streams a user may hold at once, reserved or open. */
  maxPerKey: number;
  clock: Clock;
}

/**
 * graphql-sse's "single connection mode" on the GraphQL path: a PUT reserves a stream, a request
 * with the token and Accept: text/event-stream (the client's GET) opens it, POSTs with the token
 * run operations into it, a DELETE stops one.
 * Everything else (plain requests and the distinct-connection SSE that yoga speaks natively)
 * stays with yoga. Reserving needs a valid key, so nobody else can make the server hold streams.
 *
 * graphql-sse keeps a reserved stream until it is opened and then closed; it has no limit and no
 * expiry, so one key could fill the memory with PUTs (they run no operation, so the rate limit
 * never sees them). Here a user holds at most `maxPerKey` streams, reserved or open, and a
 * reservation not opened within RESERVATION_OPEN_MS is dropped.
 */
export function useGraphQLSSESingleConnection(graphqlEndpoint: string, options: SingleConnectionOptions): Plugin {
  const held = new HeldStreams(options.maxPerKey);
  // The PUT a token was minted for: its slot is taken until the answer says whether it was reserved.
  const mintedFor = new WeakMap<Request, string>();
  const sse = useGraphQLSSE({
    endpoint: graphqlEndpoint,
    async authenticate(req) {
      const raw = req.raw as Request;
      // A reservation's token is the server's to make: graphql-sse would reserve any token a PUT
      // brings, with no key asked and none of the limits below. A PUT's token is ignored, not
      // refused: graphql-sse's client keeps its last token in its headers and sends it again
      // when it reserves anew (after a lazy close or a lost connection).
      const token = raw.method === 'PUT' ? null : tokenOf(raw);
      if (token) return token;
      const key = readApiKey(raw.headers);
      const owner = key ? await options.identify(key) : null;
      if (!owner) return UNAUTHENTICATED;
      // Only a PUT reserves; graphql-sse finds no stream for this fresh token (404, or with
      // Accept: text/event-stream an operation of its distinct-connection mode).
      if (raw.method !== 'PUT') return randomUUID();
      const minted = held.take(owner);
      if (!minted) return tooManyStreams(options.maxPerKey);
      mintedFor.set(raw, minted);
      return minted;
    },
  });

  /** Runs graphql-sse's handler for `request`; resolves with its answer (or undefined if it passed). */
  const handle = (payload: RequestPayload): Promise<Response | undefined> =>
    new Promise((resolve, reject) => {
      Promise.resolve(sse.onRequest?.({ ...payload, endResponse: resolve })).then(() => resolve(undefined), reject);
    });

  /** Drops a reservation nobody opened: opened here and cancelled at once, graphql-sse disposes the stream. */
  const expire = async (token: string, payload: RequestPayload) => {
    const url = new URL(graphqlEndpoint, payload.url);
    const request = new payload.fetchAPI.Request(url.href, { headers: { accept: 'text/event-stream', [TOKEN_HEADER]: token } });
    const response = await handle({ ...payload, request, url });
    await response?.body?.cancel().catch(() => {});
    // 409: it was opened meanwhile, and its stream's end lets go of it.
    if (response?.status !== 409) held.release(token);
  };

  /** Books graphql-sse's answer: a reservation made (its expiry set) or refused, a stream opened (its end watched). */
  const track = (payload: RequestPayload, response: Response): Response => {
    const { request } = payload;
    const minted = mintedFor.get(request);
    if (minted && response.status === 201) {
      held.reserved(minted, setClockTimer(options.clock, () => void expire(minted, payload).catch(() => {}), RESERVATION_OPEN_MS));
    } else if (minted) held.release(minted);
    // graphql-sse opens a reserved stream for any method whose Accept is text/event-stream.
    const token = tokenOf(request);
    const stream = response.headers.get('content-type')?.startsWith('text/event-stream');
    if (token && response.status === 200 && stream && response.body && held.opened(token)) {
      const release = () => held.release(token);
      // Also when the client goes away without the body being read or cancelled (a full socket).
      payload.request.signal.addEventListener('abort', release, { once: true });
      return endlessResponse(onBodyEnd(response, payload.fetchAPI, release));
    }
    return response;
  };

  return {
    onYogaInit: sse.onYogaInit,
    onRequest(payload) {
      const { request, url, endResponse } = payload;
      if (url.pathname !== graphqlEndpoint || !isSingleConnection(request, url)) return;
      return handle(payload).then(
        (response) => response && endResponse(track(payload, response)),
        (error: unknown) => {
          const minted = mintedFor.get(request);
          if (minted) held.release(minted);
          throw error;
        },
      );
    },
  };
}

/** Streams per user, reserved or open, keyed by token. */
class HeldStreams {
  readonly #owners = new Map<string, { owner: string; cancelExpiry?: () => void; open: boolean }>();
  readonly #perOwner = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** A new token holding one of `owner`'s places, or null when they are all held. */
  take(owner: string): string | null {
    const count = this.#perOwner.get(owner) ?? 0;
    if (count >= this.max) return null;
    this.#perOwner.set(owner, count + 1);
    const token = randomUUID();
    this.#owners.set(token, { owner, open: false });
    return token;
  }

  reserved(token: string, cancelExpiry: () => void): void {
    const entry = this.#owners.get(token);
    if (entry) entry.cancelExpiry = cancelExpiry;
    else cancelExpiry();
  }

  /** True when `token` was a reservation of ours that is open now (its expiry cancelled). */
  opened(token: string): boolean {
    const entry = this.#owners.get(token);
    if (!entry || entry.open) return false;
    entry.open = true;
    entry.cancelExpiry?.();
    return true;
  }

  release(token: string): void {
    const entry = this.#owners.get(token);
    if (!entry) return;
    this.#owners.delete(token);
    entry.cancelExpiry?.();
    const left = (this.#perOwner.get(entry.owner) ?? 1) - 1;
    if (left > 0) this.#perOwner.set(entry.owner, left);
    else this.#perOwner.delete(entry.owner);
  }
}

/** The same response, calling `onEnd` once when its body ends, fails or is cancelled (the client went away). */
function onBodyEnd(response: Response, fetchAPI: { ReadableStream: typeof ReadableStream; Response: typeof Response }, onEnd: () => void): Response {
  const reader = response.body!.getReader();
  let ended = false;
  const end = () => {
    if (!ended) onEnd();
    ended = true;
  };
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
  return new fetchAPI.Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

const tokenOf = (request: Request) => request.headers.get(TOKEN_HEADER) ?? new URL(request.url).searchParams.get('token');

const json = (status: number, statusText: string, errors: unknown[]) =>
  [JSON.stringify({ errors }), { status, statusText, headers: { 'content-type': 'application/json; charset=utf-8' } }] as const;

const UNAUTHENTICATED = json(401, 'Unauthorized', [
  { message: 'A valid API key is required for a single-connection stream (graphql-sse)', extensions: { code: 'UNAUTHENTICATED' } },
]);

const tooManyStreams = (max: number) =>
  json(429, 'Too Many Requests', [
    {
      message: `At most ${max} single-connection streams may be reserved or open per account (all its API keys together); close one first`,
      extensions: { code: 'TOO_MANY_STREAMS', limit: max },
    },
  ]);

function isSingleConnection(request: Request, url: URL): boolean {
  // `url.search` first: searchParams builds an object, and plain requests have no query string.
  return request.method === 'PUT' || request.method === 'DELETE' || request.headers.has(TOKEN_HEADER) || (url.search !== '' && url.searchParams.has('token'));
}
