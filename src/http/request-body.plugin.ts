import { isUtf8 } from 'node:buffer';
import type { Plugin } from 'graphql-yoga';

export const MAX_BODY_BYTES = 100 * 1024;

/** A transport-level refusal, shaped like yoga's own (code BAD_REQUEST). */
export function refusal(Response: typeof globalThis.Response, status: number, message: string, headers: HeadersInit = {}): Response {
  const response = new Response(JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }), { status, headers });
  // Headers carried over from another answer (see useMediaTypeChecks) must not describe its body.
  response.headers.delete('content-length');
  response.headers.set('content-type', 'application/json; charset=utf-8');
  return response;
}

/**
 * Refuses request bodies over MAX_BODY_BYTES with 413: at once when Content-Length says so, and
 * while reading otherwise (chunked bodies declare no length). JSON must be UTF-8 (RFC 8259): a
 * declared other charset is 415 and invalid bytes 400, so no mis-decoded text reaches the
 * database. The body is then handed on as the bytes read.
 */
export function useRequestBodyLimits(maxBytes = MAX_BODY_BYTES): Plugin {
  return {
    async onRequest({ request, setRequest, endResponse, fetchAPI }) {
      if (!request.body || request.method === 'GET' || request.method === 'HEAD') return;
      const refuse = (status: number, message: string) => endResponse(refusal(fetchAPI.Response, status, message));
      const tooLarge = `The request body is larger than ${Math.round(maxBytes / 1024)} kB`;
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers.get('content-type') ?? '')?.[1];
      if (charset && !/^utf-?8$/i.test(charset)) return refuse(415, `Only UTF-8 request bodies are accepted, not ${charset}`);
      const declared = Number(request.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) return refuse(413, tooLarge);
      // A declared length within the limit is what the HTTP parser delivers, no more: read it in
      // one go (the stream reader costs ~3 % of a small read); the size is still checked after.
      const bytes = Number.isFinite(declared) ? Buffer.from(await request.arrayBuffer()) : await readAtMost(request.body, maxBytes);
      if (!bytes || bytes.byteLength > maxBytes) return refuse(413, tooLarge);
      if (!isUtf8(bytes)) return refuse(400, 'The request body is not valid UTF-8');
      const { url, method, headers, signal } = request;
      setRequest(new fetchAPI.Request(url, { method, headers, signal, body: bytes }));
    },
  };
}

/** The whole body, or null as soon as it passes maxBytes (the rest is not read). */
async function readAtMost(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Buffer<ArrayBuffer> | null> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

