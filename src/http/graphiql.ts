import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { loadLater } from '../load-later.js';

// GraphiQL is 9 MB of scripts, styles, Monaco's workers and an icon. @graphql-yoga/render-graphiql
// inlines them all in the page, which then weighed 9 MB on every load, uncompressed and never
// cached. Here the page is small and names each asset by its hash under ASSETS_PATH, where it is
// served gzipped (when accepted) and cacheable for a year: a browser fetches them once per
// version. Still offline: nothing comes from a CDN.
const ASSETS_PATH = '/graphiql/';

interface Asset {
  path: string;
  type: string;
  body: Buffer;
  etag: string;
  gzipped?: Promise<Buffer>;
}

interface Assets {
  css: Asset;
  js: Asset;
  favicon: Asset;
  /** Monaco's workers by the label it asks for. */
  workers: Record<'editorWorkerService' | 'json' | 'graphql', Asset>;
  byPath: Map<string, Asset>;
}

/** Loaded with the first GraphiQL page or asset, not at start (the module is 9 MB, ≈ 0.2 s to load). */
const assets = loadLater(() => import('@graphql-yoga/render-graphiql/graphiql').then(namedByHash), { onFirstUse: true });

function namedByHash(m: typeof import('@graphql-yoga/render-graphiql/graphiql')): Assets {
  const asset = (name: string, ext: string, type: string, body: Buffer): Asset => {
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    return { path: `${ASSETS_PATH}${name}-${hash}.${ext}`, type, body, etag: `"${hash}"` };
  };
  const script = (name: string, text: string) => asset(name, 'js', 'text/javascript; charset=utf-8', Buffer.from(text, 'utf8'));
  const favicon = m.favicon.slice(m.favicon.indexOf(',') + 1); // a data: URI, base64
  const named = {
    css: asset('graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(m.css, 'utf8')),
    js: script('graphiql', m.js),
    favicon: asset('favicon', 'ico', 'image/x-icon', Buffer.from(favicon, 'base64')),
    workers: {
      editorWorkerService: script('editor.worker', m.editorWorkerService),
      json: script('json.worker', m.jsonWorker),
      graphql: script('graphql.worker', m.graphqlWorker),
    },
  };
  const all = [named.css, named.js, named.favicon, ...Object.values(named.workers)];
  return { ...named, byPath: new Map(all.map((a) => [a.path, a])) };
}

/** The GraphiQL page: what @graphql-yoga/render-graphiql renders, with its assets by URL. */
export async function renderGraphiQL(options: GraphiQLOptions): Promise<string> {
  const { css, js, favicon, workers } = await assets.get();
  const workerUrls = Object.fromEntries(Object.entries(workers).map(([label, asset]) => [label, asset.path]));
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${favicon.path}" />
    <link rel="stylesheet" href="${css.path}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script src="${js.path}"></script>
    <script>
      const workers = ${inlineJson(workerUrls)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] };
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${inlineJson(options)});
    </script>
  </body>
</html>
`;
}

/** Serves GraphiQL's assets (GET and HEAD under ASSETS_PATH); any other request goes on. */
export function useGraphiQLAssets(): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(ASSETS_PATH)) return;
      return assets.get().then(async ({ byPath }) => {
        const asset = request.method === 'GET' || request.method === 'HEAD' ? byPath.get(url.pathname) : undefined;
        if (!asset) {
          endResponse(new fetchAPI.Response(null, { status: 404, statusText: 'Not Found' }));
          return;
        }
        const headers: Record<string, string> = {
          'content-type': asset.type,
          'cache-control': 'public, max-age=31536000, immutable',
          etag: asset.etag,
          vary: 'accept-encoding',
        };
        if (request.headers.get('if-none-match') === asset.etag) {
          endResponse(new fetchAPI.Response(null, { status: 304, headers }));
          return;
        }
        let body = asset.body;
        if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
          headers['content-encoding'] = 'gzip';
          // Compressed once per asset, off the event loop (zlib's thread pool).
          asset.gzipped ??= gzipAsync(asset.body);
          body = await asset.gzipped;
        }
        headers['content-length'] = String(body.length);
        // A Buffer is a Uint8Array; lib.dom's BodyInit only names those over a plain ArrayBuffer.
        endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers }));
      });
    },
  };
}

const gzipAsync = promisify(gzip);

/** JSON inside a <script>: no `</script>` (or `<!--`) can end it early. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * GraphiQL's first tabs. The email is fresh on every page load so that Register works on a
 * database where someone already ran it; keys are never persisted by the page (the headers
 * editor is kept in memory only).
 */
export function graphiqlOptions(): GraphiQLOptions {
  const email = `you-${randomBytes(4).toString('hex')}@example.com`;
  return {
    title: 'Alertwire',
    shouldPersistHeaders: false,
    defaultTabs: [
      { query: REGISTER, variables: JSON.stringify({ input: { name: 'Ada', email } }, null, 2) },
      { query: VIEWER, headers: KEY_HEADER },
      { query: DELIVERIES, headers: KEY_HEADER },
    ],
  };
}

const KEY_HEADER = JSON.stringify({ 'X-API-Key': 'aw_… (the apiKey that Register answered)' }, null, 2);

const REGISTER = `# Welcome to Alertwire. Run this once (change the email to yours): the answer holds your
# API key, shown only once. Put it in the Headers tab (below, next to Variables) of the other tabs:
#   { "X-API-Key": "aw_..." }
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    apiKey
    user { id name email }
  }
}
`;

const VIEWER = `# Needs your key in the Headers tab: { "X-API-Key": "aw_..." }
query Me {
  viewer { id name email createdAt }
  webhook { url hasSecret isActive }
  alerts { count maxAlerts }
}
`;

const DELIVERIES = `# Live delivery status (needs your key in the Headers tab). Then, in another tab,
# set a webhook and run: mutation { sendTestWebhook { __typename } }
subscription Deliveries {
  webhookDeliveryUpdated { id event status attempts httpStatus failureReason }
}
`;
