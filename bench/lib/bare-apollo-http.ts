import http, { type IncomingMessage } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The bare Apollo servers of the overhead rows ((b), (f), (c0)): plain
 * node:http wired the way src/http/graphql-handler.ts wires the gateway (read
 * the body, JSON.parse, HeaderMap, executeHTTPGraphQLRequest) with nothing
 * else. One copy, so that those rows differ only in schema and context; kept
 * apart from the gateway's own handler so that its changes show in (c)/(d).
 */
export function bareApolloServer<Context extends BaseContext>(apollo: ApolloServer<Context>, context: () => Promise<Context>): http.Server {
  return http.createServer(async (req, res) => {
    try {
      const raw = await readBody(req);
      const body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: q === -1 ? '' : url.slice(q), body },
        context,
      });
      for (const [name, value] of response.headers) res.setHeader(name, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') return void res.end(response.body.string);
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch {
      res.statusCode = 500;
      res.end();
    }
  });
}
