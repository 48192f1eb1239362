import type http from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, type GatewayContext } from '../api/context';
import { apqHashOf, type TrustedDocuments } from '../api/trusted-documents';
import { classifyError, createFormatError } from '../api/errors/format-error';
import type { Logger } from '../logger';
import { armorValidationRules, GRAPHQL_LIMITS, noIntrospectionRule } from '../api/graphql-limits';
import { requestIdOf } from './request-id';
import type { Principal } from '../services/merchant.service';
import { refuseUpgrade } from './connection-limits';
import { SubscriptionLimiter, withSubscriptionLimits, type SubscriptionLimits } from './subscription-limits';

const DOCUMENT_CACHE_SIZE = 500;

/** graphql-ws's close code for a refused `connection_init` (onConnect returned false). */
export const WS_FORBIDDEN = 4403;

/**
 * The `Authorization` value of a `connection_init`'s params: like the HTTP
 * header, its name in any case (`authorization`, `Authorization`). Two
 * spellings with different values are malformed.
 */
export function connectionAuthorization(params: unknown): { header: string } | { refused: 'missing' | 'malformed' } {
  if (!params || typeof params !== 'object') return { refused: 'missing' };
  const values = Object.entries(params as Record<string, unknown>)
    .filter(([name]) => name.toLowerCase() === 'authorization')
    .map(([, value]) => value);
  if (!values.length) return { refused: 'missing' };
  const [header] = values;
  if (values.some((value) => value !== header) || typeof header !== 'string' || !bearerToken(header)) return { refused: 'malformed' };
  return { header };
}

/**
 * graphql-ws on the same port and path as HTTP GraphQL. The bearer token
 * comes in `connectionParams.authorization` (API key or client secret); a
 * `connection_init` without valid credentials is closed with 4403 Forbidden.
 * The same limits and the same introspection switch as HTTP apply (tokens,
 * depth, aliases, directives, cost); mutations are refused here — they go
 * over HTTP, where CSRF prevention, the body limit and the per-key rate limit
 * apply.
 */
export function attachGraphqlWs(
  server: http.Server,
  schema: GraphQLSchema,
  options: {
    /** `authorization` is a `Bearer …` header value (checked by connectionAuthorization). */
    buildContext: (authorization: string, request: http.IncomingMessage) => Promise<GatewayContext>;
    production: boolean;
    /** GRAPHQL_INTROSPECTION: false refuses `__schema` / `__type` as over HTTP. */
    introspection: boolean;
    log: Logger;
    /** Subscriptions per connection and principal, variables, the connection_init deadline. */
    limits: SubscriptionLimits;
    /** The principal behind `connectionParams.authorization` (for the per-principal counts). */
    principalOf: (authorization: unknown) => Promise<Principal | null>;
    /** Why an upgrade request must be refused (connection caps), or undefined to serve it. */
    admit?: (request: http.IncomingMessage) => string | undefined;
    /** `payload.documentId` (with `query: ""`) and the TRUSTED_DOCUMENTS policy, as over HTTP. */
    trustedDocuments?: TrustedDocuments;
  },
): { close: () => Promise<void>; drain: () => void; subscriptions: SubscriptionLimiter; readonly connections: number } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: GRAPHQL_LIMITS.wsMessageBytes });
  // A client that sends a frame over the limit (or bad framing) makes ws close
  // its connection (1009/1002) and then emit 'error' on the socket, where
  // graphql-ws would console.error a stack trace: any anonymous client could
  // fill stderr. Those are the client's mistakes, closed already: one
  // structured log line instead. Real socket errors still reach graphql-ws.
  wss.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      const code = (args[0] as { code?: unknown } | undefined)?.code;
      if (event === 'error' && typeof code === 'string' && code.startsWith('WS_ERR_')) {
        options.log.info(
          { requestId: requestIdOf(request), code, message: (args[0] as Error).message },
          'graphql-ws: client sent an invalid frame; connection closed',
        );
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });
  let draining = false;
  server.on('upgrade', (request, socket, head) => {
    if (draining) return refuseUpgrade(socket as Socket, 'this instance is shutting down');
    const pathname = (request.url ?? '').split('?')[0];
    if (pathname !== '/graphql') {
      // Destroyed once written: an ended socket would stay half-open for as long as the client likes.
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n', () => socket.destroy());
      return;
    }
    // Over a connection cap: an HTTP 503 (Retry-After) before the upgrade, then closed.
    const refused = options.admit?.(request);
    if (refused) return refuseUpgrade(socket as Socket, refused);
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const rules = [...specifiedRules, ...armorValidationRules(), ...(options.introspection ? [] : [noIntrospectionRule()])];
  /** Valid documents by query text, least recently used first. */
  const documents = new Map<string, DocumentNode>();
  const format = createFormatError({ production: options.production });
  const formatAll = (errors: readonly GraphQLError[], context?: GatewayContext): GraphQLFormattedError[] =>
    errors.map((error) => {
      const verdict = classifyError(error);
      if (verdict.kind === 'internal' || (verdict.kind === 'gateway' && verdict.error.code === 'INTERNAL_SERVER_ERROR')) {
        (context?.log ?? options.log).error({ err: verdict.error, path: error.path }, 'internal error (graphql-ws)');
      }
      const formatted = format(error.toJSON(), error);
      return { ...formatted, extensions: { ...formatted.extensions, ...(context ? { requestId: context.requestId } : {}) } };
    });

  const subscriptions = new SubscriptionLimiter(options.limits);
  /** A connection's context: onConnect let it in, so its credentials are a well-formed header. */
  const contextOf = (ctx: { connectionParams?: unknown; extra: { request: http.IncomingMessage } }) =>
    options.buildContext((connectionAuthorization(ctx.connectionParams) as { header: string }).header, ctx.extra.request);
  const disposable = useServer(
    withSubscriptionLimits<Record<string, unknown> | undefined, Extra>(
      {
        schema,
        onConnect: async (ctx) => {
          const credentials = connectionAuthorization(ctx.connectionParams);
          const refused = 'refused' in credentials ? credentials.refused : (await options.principalOf(credentials.header)) ? undefined : 'unknown';
          if (!refused) return true;
          options.log.info(
            { requestId: requestIdOf(ctx.extra.request), credentials: refused, closeCode: WS_FORBIDDEN },
            'graphql-ws: connection_init refused (no valid API key or client secret); closed 4403 Forbidden',
          );
          return false;
        },
        context: (ctx) => contextOf(ctx),
        onSubscribe: async (ctx, _id, payload) => {
          // Trusted documents: the same wire format as HTTP's body (graphql-ws needs `query` to be a
          // string: send ""). The context is built here only when the policy needs the principal.
          let query = payload.query;
          let contextValue: Promise<GatewayContext> | undefined;
          if (options.trustedDocuments) {
            const contextOnce = () => (contextValue ??= contextOf(ctx));
            const { documentId } = payload as { documentId?: unknown };
            const verdict = await options.trustedDocuments.check(
              { documentId, query, apqHash: apqHashOf(payload.extensions) },
              async () => (await contextOnce()).principal,
            );
            if (!verdict.ok) return [new GraphQLError(verdict.error.message, { extensions: { code: verdict.error.code } })];
            query = verdict.text ?? query;
          }
          // Thousands of clients send the same few subscription texts: parse and
          // validate each text once and share the document (memory per subscriber).
          let document = documents.get(query);
          if (document) {
            documents.delete(query);
            documents.set(query, document);
          } else {
            try {
              document = parse(query, { maxTokens: GRAPHQL_LIMITS.maxTokens });
            } catch (error) {
              const message = error instanceof Error ? error.message : 'unparsable query';
              return [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
            }
            const errors = validate(schema, document, rules);
            if (errors.length) return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
            documents.set(query, document);
            if (documents.size > DOCUMENT_CACHE_SIZE) documents.delete(documents.keys().next().value!);
          }
          const operation = getOperationAST(document, payload.operationName);
          if (operation?.operation === 'mutation') {
            return [
              new GraphQLError('Send mutations over HTTP POST /graphql; this WebSocket carries subscriptions and queries', {
                extensions: { code: 'BAD_REQUEST' },
              }),
            ];
          }
          return {
            schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            ...(contextValue ? { contextValue: await contextValue } : {}),
          };
        },
        onError: (_ctx, _id, _payload, errors) => formatAll(errors) as never,
        onNext: (_ctx, _id, _payload, args, result) =>
          result.errors ? ({ ...result, errors: formatAll(result.errors as GraphQLError[], args.contextValue as GatewayContext) } as never) : undefined,
      },
      subscriptions,
      options.principalOf,
      options.limits,
    ),
    wss,
  );
  return {
    subscriptions,
    get connections() {
      return wss.clients.size;
    },
    // 1001 Going Away: graphql-ws clients reconnect (to another instance) and resume with sinceVersion.
    drain: () => {
      draining = true;
      for (const client of wss.clients) client.close(1001, 'server shutting down');
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
