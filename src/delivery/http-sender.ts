import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { setClockTimer, systemClock, type Clock } from '../clock.js';
import { parseRetryAfter, RETRY_AFTER_STATUSES } from './retry-after.js';
import { blockedReason, checkAddress, parseIpLiteral, privateNetworksHint, type AddressVerdict } from './address-policy.js';
import {
  keptResponseHeaders,
  readBodyHead,
  requestHeaderList,
  RESPONSE_BODY_KEPT_BYTES,
  type AttemptDetails,
} from './attempt-details.js';
import type { FailureKind } from './delivery-status.js';
import { signatureHeaders } from './signature.js';
import { PACKAGE_JSON_FILE } from '../package-files.js';

/**
 * Failures no retry can fix: the delivery ends at once. GONE (HTTP 410) is the receiver saying
 * the endpoint is gone for good — the hook for disabling the webhook as well.
 */
type PermanentFailure = 'GONE' | 'BLOCKED_ADDRESS';

export interface AttemptOutcome {
  delivered: boolean;
  httpStatus: number | null;
  error: string | null;
  failureKind: FailureKind | null;
  /** Set when no retry can help (see PermanentFailure). */
  permanent: PermanentFailure | null;
  /** The wait a 429/503 asked for in Retry-After, uncapped; null when it asked for none. */
  retryAfterMs: number | null;
  startedAt: Date;
  durationMs: number;
  details?: AttemptDetails;
}

interface SendRequest {
  url: string;
  deliveryId: string;
  /** Standard Webhooks' webhook-id: the same for every send of one message, redeliveries included; default deliveryId. */
  messageId?: string;
  event: string;
  body: string;
  secret: string | null;
  /** Secrets from before a rotation that also sign until their overlap ends. */
  previousSecrets?: string[];
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFn = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export interface SenderOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  clock?: Clock;
  /** Name resolution; tests pass one that answers chosen addresses. Default: dns.lookup. */
  lookup?: LookupFn;
  /** Sockets kept per receiver origin. */
  connections?: number;
}

export interface HttpSender {
  send(req: SendRequest): Promise<AttemptOutcome>;
  close(): Promise<void>;
}

// A receiver's answer is read to keep the connection reusable; only its head is kept.
const RESPONSE_BODY_CAP = 16 * 1024;
// The status is known once headers arrive: a body dripped slowly must not hold the send slot.
export const RESPONSE_BODY_TIMEOUT_MS = 1000;

const packageVersion = (JSON.parse(readFileSync(PACKAGE_JSON_FILE, 'utf8')) as {
  version: string;
}).version;
const USER_AGENT = `Alertwire/${packageVersion}`;

class BlockedAddressError extends Error {
  constructor(host: string, verdict: AddressVerdict) {
    const target = host === verdict.address ? verdict.address : `${host} (${verdict.address})`;
    super(`Blocked address: ${target} is ${verdict.reason}; ${privateNetworksHint}`);
  }
}

/** Resolves, drops disallowed answers, and hands the connection only what was checked. */
function guardedLookup(base: LookupFn): LookupFn {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (error, answers) => {
      if (error) return callback(error, '');
      const list = answers as LookupAddress[];
      const allowed = list.filter((a) => checkAddress(a.address) === null);
      if (allowed.length === 0) {
        const verdict = checkAddress(list[0]?.address ?? hostname) ?? { address: hostname, reason: 'unresolvable' };
        return callback(new BlockedAddressError(hostname, verdict), '');
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** Every error in a cause/AggregateError chain: undici and net wrap the one that says why. */
function errorChain(error: unknown): object[] {
  const chain: object[] = [];
  const walk = (e: unknown) => {
    if (!e || typeof e !== 'object' || chain.includes(e)) return;
    chain.push(e);
    walk((e as { cause?: unknown }).cause);
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) walk(inner);
  };
  walk(error);
  return chain;
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

function classify(error: unknown, timedOut: boolean, url: URL, timeoutMs: number): { kind: FailureKind; message: string } {
  const chain = errorChain(error);
  const blocked = chain.find((e): e is BlockedAddressError => e instanceof BlockedAddressError);
  if (blocked) return { kind: 'BLOCKED_ADDRESS', message: blocked.message };
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
  if (timedOut || codes.some((c) => TIMEOUT_CODES.has(c))) {
    return { kind: 'TIMEOUT', message: `No response within ${timeoutMs} ms` };
  }
  const dnsCode = codes.find((c) => DNS_CODES.has(c));
  if (dnsCode) return { kind: 'DNS_ERROR', message: `Host ${url.hostname} did not resolve (${dnsCode})` };
  // llhttp's errors: bytes came back, but they were not an HTTP response.
  const parser = chain.find((e): e is Error => e instanceof Error && e.name === 'HTTPParserError');
  if (parser) {
    const code = codes.find((c) => c.startsWith('HPE_'));
    return { kind: 'CONNECTION_ERROR', message: `${url.host} did not answer with HTTP (${code ?? parser.message})` };
  }
  if (codes.includes('UND_ERR_SOCKET')) {
    return { kind: 'CONNECTION_ERROR', message: `${url.host} closed the connection without an HTTP response` };
  }
  const code = codes.find((c) => c.startsWith('E') || c.startsWith('UND_'));
  const named = chain.find((e): e is Error => e instanceof Error && e.name !== 'Error');
  const why = code ?? named?.name ?? 'no error code';
  return { kind: 'CONNECTION_ERROR', message: `Connection to ${url.host} failed (${why})` };
}

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? null;

/** Reads (and drops) at most RESPONSE_BODY_CAP bytes for at most RESPONSE_BODY_TIMEOUT_MS; then cuts the connection. */
/**
 * The head of the receiver's answer, read for at most RESPONSE_BODY_TIMEOUT_MS and
 * RESPONSE_BODY_CAP bytes. The status decides the outcome: a slow, broken or endless body only
 * costs the connection (the stream is destroyed), never turns a 2xx into a failed attempt.
 */
async function readBodyWithin(body: Dispatcher.ResponseData['body'], clock: Clock): Promise<string> {
  const cancel = setClockTimer(clock, () => body.destroy(), RESPONSE_BODY_TIMEOUT_MS);
  try {
    return await readBodyHead(body, RESPONSE_BODY_KEPT_BYTES, RESPONSE_BODY_CAP);
  } finally {
    cancel();
  }
}

const httpStatusText = (status: number) => `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trim();

// A worker sends to the same few endpoint URLs over and over: each is parsed once (undici takes the
// URL object as it is). Bounded, so a stream of distinct URLs cannot grow it for ever.
const PARSED_URLS_KEPT = 1000;

export function createHttpSender(options: SenderOptions): HttpSender {
  const clock = options.clock ?? systemClock;
  const guard = !options.allowPrivateNetworks;
  const baseLookup: LookupFn = options.lookup ?? (dns.lookup as unknown as LookupFn);
  const connector = buildConnector({
    timeout: options.timeoutMs,
    lookup: guard ? guardedLookup(baseLookup) : baseLookup,
  } as buildConnector.BuildOptions);

  const connect: buildConnector.connector = (connectOptions, callback) => {
    if (guard) {
      // A literal IP never reaches the lookup hook, so it is checked here.
      const literal = parseIpLiteral(connectOptions.hostname);
      const reason = literal ? blockedReason(literal) : null;
      if (literal && reason) {
        callback(new BlockedAddressError(connectOptions.hostname, { address: literal.toString(), reason }), null);
        return;
      }
    }
    connector(connectOptions, callback);
  };

  const agent = new Agent({
    connect,
    connections: options.connections ?? 64,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });

  const parsedUrls = new Map<string, URL>();
  const parse = (text: string): URL => {
    let url = parsedUrls.get(text);
    if (!url) {
      if (parsedUrls.size >= PARSED_URLS_KEPT) parsedUrls.clear();
      url = new URL(text);
      parsedUrls.set(text, url);
    }
    return url;
  };

  return {
    async send(req) {
      const startedAt = clock.now();
      const url = parse(req.url);
      const headers = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-webhook-event': req.event,
        'x-webhook-delivery': req.deliveryId,
        ...signatureHeaders(req.secret, req.messageId ?? req.deliveryId, startedAt, req.body, req.previousSecrets),
      };
      // undici also takes an EventEmitter as the abort signal: far cheaper per send than an
      // AbortController. The timer runs on the injected clock, so tests time a send out at will.
      const abort = new EventEmitter();
      let timedOut = false;
      const cancelTimer = setClockTimer(
        clock,
        () => {
          timedOut = true;
          abort.emit('abort');
        },
        options.timeoutMs,
      );
      const sent = requestHeaderList(headers);
      const finish = (
        fields: Omit<AttemptOutcome, 'startedAt' | 'durationMs' | 'details'>,
        answer: Omit<AttemptDetails, 'requestHeaders'> = { responseHeaders: [], responseBody: null, responseMs: null },
      ): AttemptOutcome => ({
        ...fields,
        details: { requestHeaders: sent, ...answer },
        startedAt,
        durationMs: Math.max(0, clock.now().getTime() - startedAt.getTime()),
      });
      try {
        const response = await request(url, {
          method: 'POST',
          headers,
          body: req.body,
          dispatcher: agent,
          signal: abort,
        });
        const answer = {
          responseMs: Math.max(0, clock.now().getTime() - startedAt.getTime()),
          responseHeaders: keptResponseHeaders(response.headers),
          responseBody: await readBodyWithin(response.body, clock),
        };
        const status = response.statusCode;
        if (status >= 200 && status < 300) {
          return finish({ delivered: true, httpStatus: status, error: null, failureKind: null, permanent: null, retryAfterMs: null }, answer);
        }
        const redirect = status >= 300 && status < 400;
        const retryAfter = RETRY_AFTER_STATUSES.has(status) ? headerText(response.headers['retry-after']) : null;
        return finish(
          {
            delivered: false,
            httpStatus: status,
            error: redirect ? `${httpStatusText(status)} (redirects are not followed)` : httpStatusText(status),
            failureKind: redirect ? 'REDIRECT' : 'HTTP_ERROR',
            permanent: status === 410 ? 'GONE' : null,
            retryAfterMs: parseRetryAfter(retryAfter, clock.now()),
          },
          answer,
        );
      } catch (error) {
        const { kind, message } = classify(error, timedOut, url, options.timeoutMs);
        const permanent = kind === 'BLOCKED_ADDRESS' ? 'BLOCKED_ADDRESS' : null;
        return finish({ delivered: false, httpStatus: null, error: message, failureKind: kind, permanent, retryAfterMs: null });
      } finally {
        cancelTimer();
      }
    },
    close: () => agent.close(),
  };
}
