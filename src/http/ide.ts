import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * GraphiQL, served by the gateway itself so that exploring the API needs no
 * network: GraphiQL 3's browser bundle (graphql-ws client included) and
 * React 18's UMD builds, read from node_modules. They are dev dependencies
 * (like ts-node, which `npm start` runs on); a production install without
 * them simply has no IDE, which production does not serve anyway.
 */
export const IDE_PATH = '/graphiql';

const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css; charset=utf-8' },
};

export interface IdeOptions {
  /** Pre-filled in the headers editor as `Authorization: Bearer <key>` (sent over graphql-ws too); a placeholder when absent. */
  apiKey?: string;
}

export type IdeHandler = (req: IncomingMessage, res: ServerResponse, pathname: string) => void;

function assetFile(pkg: string, file: string): string | undefined {
  try {
    const full = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
    return fs.existsSync(full) ? full : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this install has the IDE's files (a dev install does; `npm install --omit=dev` does not). */
export function ideAvailable(): boolean {
  return Object.values(ASSETS).every((a) => assetFile(a.pkg, a.file) !== undefined);
}

const DEFAULT_QUERY = `# The gateway's own GraphiQL: works offline. Subscriptions run over graphql-ws.
# Your demo API key is in Headers below. Try:
#
# mutation {
#   createPayment(input: { amount: 1999, currency: "USD", description: "Blue T-shirt",
#       returnUrl: "__ORIGIN__/demo/return", idempotencyKey: "order-1001" }) {
#     __typename
#     ... on CreatePaymentPayload { replayed payment { id status checkoutUrl version } }
#     ... on ErrorResult { code message }
#   }
# }
#
# subscription { paymentUpdated(id: "pay_…") { id status version transactionId } }

query RecentPayments {
  payments(first: 5) {
    edges { node { id status amount currency createdAt } }
  }
}
`;

function page(options: IdeOptions): string {
  const headers = JSON.stringify({ authorization: `Bearer ${options.apiKey ?? '<your API key>'}` }, null, 2);
  // JSON inside <script>: `<` escaped so no value can close the element.
  const config = JSON.stringify({ headers, defaultQuery: DEFAULT_QUERY }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>UCanPay GraphQL Gateway · GraphiQL</title>
<link rel="stylesheet" href="${IDE_PATH}/assets/graphiql.min.css">
<style>html,body,#graphiql{height:100%;margin:0}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="${IDE_PATH}/assets/react.production.min.js"></script>
<script src="${IDE_PATH}/assets/react-dom.production.min.js"></script>
<script src="${IDE_PATH}/assets/graphiql.min.js"></script>
<script>
  const config = ${config};
  const http = new URL('/graphql', location.href);
  const ws = new URL('/graphql', location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // The headers editor's values go with each HTTP request and into graphql-ws's connectionParams.
  const fetcher = GraphiQL.createFetcher({ url: http.href, subscriptionUrl: ws.href });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: config.defaultQuery.replace('__ORIGIN__', location.origin),
      headers: config.headers,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
</script>
</body>
</html>
`;
}

/** The IDE's routes: `/graphiql` (the page) and `/graphiql/assets/<file>`. */
export function createIde(options: IdeOptions): IdeHandler {
  const cache = new Map<string, Buffer>();
  return (req, res, pathname) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.statusCode = 405;
      return void res.end();
    }
    if (pathname === IDE_PATH || pathname === `${IDE_PATH}/`) {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      return void res.end(page(options));
    }
    const name = pathname.slice(`${IDE_PATH}/assets/`.length);
    const asset = pathname.startsWith(`${IDE_PATH}/assets/`) ? ASSETS[name] : undefined;
    const file = asset && assetFile(asset.pkg, asset.file);
    if (!asset || !file) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      return void res.end(asset ? `${asset.pkg} is not installed: GraphiQL needs the dev dependencies (npm install)` : 'not found');
    }
    let body = cache.get(name);
    if (!body) cache.set(name, (body = fs.readFileSync(file)));
    res.setHeader('content-type', asset.type);
    res.setHeader('cache-control', 'public, max-age=3600');
    res.end(body);
  };
}
