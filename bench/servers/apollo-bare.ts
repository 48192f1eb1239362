/**
 * (b) The fastest Apollo set-up measured here: Apollo Server 5 with a
 * type-graphql schema whose one mutation does nothing, on plain node:http,
 * wired the way src/http/graphql-handler.ts wires the gateway (read the body,
 * JSON.parse, HeaderMap, executeHTTPGraphQLRequest) but with nothing else:
 * no auth, no context, no plugins. Kept as its own copy so that changes to the
 * gateway's handler show up in (c)/(d) and not in this baseline.
 */
import 'reflect-metadata';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSchema, Mutation, Query, Resolver } from 'type-graphql';
import { failed, serve } from './ipc';

@Resolver()
class NoopResolver {
  @Query(() => Boolean)
  ok(): boolean {
    return true;
  }

  @Mutation(() => Boolean, { description: 'Does nothing.' })
  noop(): boolean {
    return true;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function main() {
  const schema = await buildSchema({ resolvers: [NoopResolver], validate: false });
  const apollo = new ApolloServer({ schema, introspection: false, plugins: [ApolloServerPluginLandingPageDisabled()] });
  await apollo.start();
  const server = http.createServer(async (req, res) => {
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
        context: async () => ({}),
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
  const ipc = serve({}, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await apollo.stop();
  });
  server.on('error', failed);
  server.listen(0, '127.0.0.1', () => ipc.ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` }));
}

main().catch(failed);
