/**
 * The dashboard (web/, built by Vite into web/dist) at `/`, and GraphiQL's own
 * code at /graphiql/<version>/…, both from this process: nothing comes from a
 * CDN, so the page and GraphiQL work behind a firewall and offline.
 *
 * Caching: files under /assets/ have content hashes in their names and
 * /graphiql/<version>/ changes with the package version, so both are cached for
 * a year (immutable); index.html is revalidated every time (ETag), so a deploy
 * is picked up at once. Responses are compressed (brotli or gzip, as the
 * browser accepts), each file once, on first request, then kept in memory.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { GraphiQLOptions } from 'graphql-yoga';

/** web/dist beside src/ or dist/ (this file is src/server/ under tsx, dist/server/ when built). */
export const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

const GRAPHIQL_VERSION = '5.24.1';
export const GRAPHIQL_PREFIX = `/graphiql/${GRAPHIQL_VERSION}/`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg']);
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Prepared {
  body: Buffer;
  /** Compressed on first request for each encoding, then kept. */
  encoded(encoding: 'br' | 'gzip'): Buffer | undefined;
  type: string;
  etag: string;
  cacheControl: string;
}

function prepare(body: Buffer, extension: string, cacheControl: string): Prepared {
  const type = TYPES[extension] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const compressible = COMPRESSIBLE.has(extension) && body.length >= 1024;
  const done = new Map<string, Buffer>();
  return {
    body,
    type,
    etag,
    cacheControl,
    encoded(encoding) {
      if (!compressible) return undefined;
      let result = done.get(encoding);
      if (!result) {
        // Brotli quality 5: within a few percent of the best for JavaScript, and GraphiQL's 9 MB take
        // well under a second instead of many (a one-time cost on the first request).
        result =
          encoding === 'br'
            ? brotliCompressSync(body, {
                params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
              })
            : gzipSync(body, { level: 6 });
        done.set(encoding, result);
      }
      return result;
    },
  };
}

function respond(request: Request, file: Prepared): Response {
  const headers = new Headers({
    'content-type': file.type,
    'cache-control': file.cacheControl,
    etag: file.etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
  });
  if (request.headers.get('if-none-match') === file.etag) return new Response(null, { status: 304, headers });
  const accepted = request.headers.get('accept-encoding') ?? '';
  const encoding = /\bbr\b/.test(accepted) ? 'br' : /\bgzip\b/.test(accepted) ? 'gzip' : undefined;
  const encoded = encoding && file.encoded(encoding);
  const body = encoded ?? file.body;
  if (encoded) headers.set('content-encoding', encoding);
  headers.set('content-length', String(body.length));
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}

/**
 * `/`, `/index.html` and `/assets/*` from a Vite build, and GraphiQL's files when it is on;
 * undefined for every other path. With GRAPHIQL=false its files are not found either: the edge
 * that switched the IDE off should not still hand out its 9 MB of code.
 */
export function webPageRoutes(webDir: string = DEFAULT_WEB_DIR, { graphiql = true }: { graphiql?: boolean } = {}) {
  const cache = new Map<string, Promise<Prepared | null>>();
  const load = (relative: string, cacheControl: string): Promise<Prepared | null> => {
    const full = path.join(webDir, relative);
    const cached = cache.get(relative);
    if (cached) return cached;
    const loading = (async () => {
      try {
        return prepare(await readFile(full), path.extname(full), cacheControl);
      } catch {
        return null;
      }
    })();
    cache.set(relative, loading);
    return loading;
  };
  let indexStamp = 0;

  return async (request: Request): Promise<Response | undefined> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const { pathname } = new URL(request.url);
    if (pathname === '/' || pathname === '/index.html') {
      const modified = await stat(path.join(webDir, 'index.html')).then(
        (s) => s.mtimeMs,
        () => -1,
      );
      // index.html is read again when it changed on disk (a rebuild while running); hashed files never change.
      if (modified !== indexStamp) {
        indexStamp = modified;
        cache.delete('index.html');
      }
      const index = await load('index.html', 'no-cache');
      if (!index) cache.delete('index.html');
      return index
        ? respond(request, index)
        : new Response(
            'The dashboard has not been built. Run `npm run build` (or `npm start`, which builds it in development).\n' +
              'The GraphQL API is at /graphql.\n',
            { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' } },
          );
    }
    if (pathname.startsWith('/assets/')) {
      const relative = path.posix.normalize(pathname.slice(1));
      if (!relative.startsWith('assets/') || relative.includes('..')) return undefined;
      const file = await load(relative, IMMUTABLE);
      if (file) return respond(request, file);
      // Only files that exist stay cached: a miss kept an entry per name asked for, so a client inventing
      // names grew the process without bound (150 MB per 20,000).
      cache.delete(relative);
      return new Response('not found\n', { status: 404 });
    }
    if (graphiql && pathname.startsWith(GRAPHIQL_PREFIX)) {
      return graphiqlAsset(request, pathname.slice(GRAPHIQL_PREFIX.length));
    }
    return undefined;
  };
}

/** GraphiQL's bundle from @graphql-yoga/render-graphiql, split into cacheable files instead of one 9 MB page. */
let graphiqlFiles: Promise<Map<string, Prepared>> | undefined;

function graphiqlAsset(request: Request, name: string): Promise<Response> {
  graphiqlFiles ??= (async () => {
    const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
    return new Map<string, Prepared>([
      ['graphiql.js', prepare(Buffer.from(bundle.js), '.js', IMMUTABLE)],
      ['graphiql.css', prepare(Buffer.from(bundle.css), '.css', IMMUTABLE)],
      ['editor.worker.js', prepare(Buffer.from(bundle.editorWorkerService), '.js', IMMUTABLE)],
      ['json.worker.js', prepare(Buffer.from(bundle.jsonWorker), '.js', IMMUTABLE)],
      ['graphql.worker.js', prepare(Buffer.from(bundle.graphqlWorker), '.js', IMMUTABLE)],
    ]);
  })();
  return graphiqlFiles.then((files) => {
    const file = files.get(name);
    return file ? respond(request, file) : new Response('not found\n', { status: 404 });
  });
}

/** The GraphiQL page yoga serves at /graphql to browsers: a small HTML loading the files above. */
export function renderGraphiQL(options: GraphiQLOptions): string {
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  const title = String(options.title ?? 'GraphiQL').replace(/[<&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="stylesheet" href="${GRAPHIQL_PREFIX}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script>
      self.MonacoEnvironment = {
        globalAPI: false,
        getWorkerUrl: function (moduleId, label) {
          var files = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };
          return ${json(GRAPHIQL_PREFIX)} + (files[label] || files.editorWorkerService);
        },
      };
    </script>
    <script src="${GRAPHIQL_PREFIX}graphiql.js"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${json(options)});
    </script>
  </body>
</html>
`;
}
