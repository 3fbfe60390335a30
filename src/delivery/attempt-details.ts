import type { Readable } from 'node:stream';

/** What an attempt sent and got back, kept on its log row; every part is bounded in size. */
export type HeaderList = [name: string, value: string][];

export interface AttemptDetails {
  /** Every header sent, signatures included (they are not secrets: they only prove the sender). */
  requestHeaders: HeaderList;
  /** The few response headers worth keeping. */
  responseHeaders: HeaderList;
  /** The first RESPONSE_BODY_KEPT_BYTES of the answer, as text; null when there was no answer. */
  responseBody: string | null;
  /** Milliseconds until the response headers arrived; null when there was no answer. */
  responseMs: number | null;
}

export const RESPONSE_BODY_KEPT_BYTES = 2048;
// location: where a redirect (a failed attempt: redirects are not followed) pointed, so the fix is in view.
const KEPT_RESPONSE_HEADERS = ['content-type', 'retry-after', 'location'];
const MAX_HEADER_VALUE = 512;

// Postgres text cannot hold NUL; a binary answer is kept as replacement characters.
const storable = (text: string) => text.replaceAll('\u0000', '\uFFFD');
const clipValue = (value: string) => storable(value.length > MAX_HEADER_VALUE ? `${value.slice(0, MAX_HEADER_VALUE - 1)}…` : value);

export function requestHeaderList(headers: Record<string, string>): HeaderList {
  return Object.entries(headers).map(([name, value]) => [name, clipValue(value)]);
}

export function keptResponseHeaders(headers: Record<string, string | string[] | undefined>): HeaderList {
  return KEPT_RESPONSE_HEADERS.flatMap((name): HeaderList => {
    const value = headers[name];
    if (value === undefined) return [];
    return [[name, clipValue(Array.isArray(value) ? value.join(', ') : value)]];
  });
}

// Decoding without `stream` keeps no state between calls: one decoder serves every attempt.
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Reads the answer to keep its first `keepBytes` and to leave the connection reusable; past
 * `readLimit` bytes it stops (the stream is destroyed, and with it that connection). A body cut
 * off (reset, or destroyed at its time limit) keeps what arrived. Plain stream events, not an
 * async iterator: this runs once per attempt, and the iterator's machinery was most of its cost.
 */
export function readBodyHead(body: Readable, keepBytes: number, readLimit: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let read = 0;
  let finished = false;
  return new Promise((resolve) => {
    // The error listener stays: an error after the head was read must not become an uncaught one.
    const done = () => {
      if (finished) return;
      finished = true;
      body.off('data', onData).off('end', done).off('close', done);
      // A multi-byte character cut at the limit decodes to one replacement character.
      resolve(storable(utf8.decode(Buffer.concat(kept))));
    };
    const onData = (chunk: Buffer) => {
      if (keptBytes < keepBytes) {
        const part = chunk.subarray(0, keepBytes - keptBytes);
        kept.push(Buffer.from(part));
        keptBytes += part.length;
      }
      read += chunk.byteLength;
      if (read > readLimit) {
        done();
        body.destroy();
      }
    };
    if (body.destroyed || body.readableEnded) return done();
    body.on('data', onData).on('end', done).on('error', done).on('close', done);
  });
}

/**
 * The body text as stored: at most RESPONSE_BODY_KEPT_BYTES of UTF-8. Each invalid byte of a
 * binary answer became a three-byte U+FFFD, so the text can be three times the bytes it came
 * from; characters that do not fit whole are dropped, which keeps the row's bound.
 */
export function storedBodyText(text: string | null, maxBytes = RESPONSE_BODY_KEPT_BYTES): string | null {
  if (text === null || Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}
