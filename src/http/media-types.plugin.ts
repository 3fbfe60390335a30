import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { refusal } from './request-body.plugin.js';

// What yoga's result processors can answer a query or mutation in (graphql-yoga
// src/plugins/use-result-processor.ts); a subscription's stream uses the first two.
const ANSWER_TYPES = ['text/event-stream', 'multipart/mixed', 'application/graphql-response+json', 'application/json'];

/** The media types an Accept header asks for, read as yoga reads it (only UTF-8, no q-values). */
function askedTypes(accept: string | null): string[] {
  return (accept || '*/*')
    .replace(/\s/g, '')
    .toLowerCase()
    .split(',')
    .flatMap((entry) => {
      const [type, ...params] = entry.split(';');
      const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8';
      return type && charset === 'charset=utf-8' ? [type] : [];
    });
}

const matches = (asked: string, offered: string) => {
  const [askedType, askedSub] = asked.split('/');
  const [type, sub] = offered.split('/');
  return (askedType === '*' || askedType === type) && (askedSub === '*' || askedSub === sub);
};

const ACCEPT_REFUSED =
  'The Accept header allows none of the types this server answers in: application/graphql-response+json, application/json ' +
  '(and text/event-stream or multipart/mixed for streams)';
const STREAM_TYPES = 'text/event-stream, multipart/mixed;subscriptionSpec=1.0';
const STREAM_REFUSED = 'A subscription answers as a stream: send Accept: text/event-stream (or multipart/mixed;subscriptionSpec=1.0)';
const JSON_AS_FORM = "The body is JSON but its Content-Type says it is a form (as curl -d sends it): add the header Content-Type: application/json";
const CONTENT_TYPE_REFUSED = 'Send the operation as a JSON body with Content-Type: application/json, or as a GET with query parameters';

/**
 * yoga decides what to answer in only after the operation ran, and answers 406 with an empty body
 * when the Accept header allows none of its types: a mutation sent so ran (a `register` made an
 * account whose key the client never saw). Here such a request is refused before anything runs.
 * A subscription whose Accept allows no stream type passes that check (JSON is allowed) and still
 * runs; yoga's 406 then left its stream running, holding one of the key's stream places for good.
 * Here the stream is ended and the 406 says what to ask for. The empty 415 yoga sends for a body it
 * cannot read gets a typed error as well. Goes after every plugin that picks how a result is
 * answered (onResultProcess).
 */
export function useMediaTypeChecks(): Plugin {
  return {
    onRequestParse({ request, endResponse, fetchAPI }) {
      const asked = askedTypes(request.headers.get('accept'));
      if (!asked.some((type) => ANSWER_TYPES.some((offered) => matches(type, offered)))) {
        return endResponse(refusal(fetchAPI.Response, 406, ACCEPT_REFUSED, { accept: ANSWER_TYPES.join(', ') }));
      }
      // `curl -d '{"query": …}'` without a Content-Type sends the JSON as a form: yoga found no
      // `query` field in it and answered "Must provide query string.", which says nothing of why.
      // Forms are rare: only they pay for reading the body here.
      if (/^application\/x-www-form-urlencoded/i.test(request.headers.get('content-type') ?? '')) {
        return request
          .clone()
          .text()
          .then((body) => {
            if (/^\s*[[{]/.test(body)) endResponse(refusal(fetchAPI.Response, 415, JSON_AS_FORM));
          });
      }
    },
    onResultProcess({ resultProcessor, setResultProcessor }) {
      if (resultProcessor) return;
      setResultProcessor((result, fetchAPI) => {
        if (isAsyncIterable(result)) void Promise.resolve(result[Symbol.asyncIterator]().return?.()).catch(() => {});
        return refusal(fetchAPI.Response, 406, STREAM_REFUSED, { accept: STREAM_TYPES });
      }, 'application/json');
    },
    onResponse({ response, setResponse, fetchAPI }) {
      if (response.status !== 415 || response.body !== null) return;
      // Its headers (CORS, X-Request-Id) are kept; refusal sets its own content type.
      setResponse(refusal(fetchAPI.Response, 415, CONTENT_TYPE_REFUSED, response.headers));
    },
  };
}
