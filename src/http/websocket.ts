import type http from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../api/context';

/**
 * graphql-ws on the same port and path as HTTP GraphQL. The bearer token
 * comes in `connectionParams.authorization` (API key or client secret).
 */
export function attachGraphqlWs(
  server: http.Server,
  schema: GraphQLSchema,
  options: {
    buildContext: (authorization: unknown, request: http.IncomingMessage) => Promise<GatewayContext>;
    formatError: (error: unknown) => import('graphql').GraphQLFormattedError;
  },
): { close: () => Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (request, socket, head) => {
    const pathname = (request.url ?? '').split('?')[0];
    if (pathname !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const disposable = useServer(
    {
      schema,
      context: (ctx) => options.buildContext(ctx.connectionParams?.authorization, ctx.extra.request),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => options.formatError(e)) as never,
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? ({ ...result, errors: result.errors.map((e) => options.formatError(e)) } as never) : undefined,
    },
    wss,
  );
  return {
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
