import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { GatewayContext } from '../api/context';
import { apqHashOf, type DocumentRequest, type TrustedDocuments } from '../api/trusted-documents';
import { BodyTooLargeError, closeAfterResponse, isJsonContentType, readBody } from './body';
import { requestIdOf } from './request-id';
import { variablesProblem, type VariablesLimits } from './variables-limits';

/**
 * Apollo Server on plain node:http (no express: measured here, express costs
 * 45 % of Apollo's throughput). Apollo does the GraphQL-over-HTTP work.
 */
export function createGraphqlHandler(
  apollo: ApolloServer<GatewayContext>,
  buildContext: (req: IncomingMessage) => Promise<GatewayContext>,
  options: {
    bodyLimit: number;
    /** `documentId` requests and the TRUSTED_DOCUMENTS policy, applied before Apollo sees the request. */
    trustedDocuments?: TrustedDocuments;
  } & VariablesLimits,
) {
  return async (req: IncomingMessage, res: ServerResponse, search: string): Promise<void> => {
    let body: unknown;
    let variables: unknown;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, options.bodyLimit);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          // The rest of the body is never read: the answer ends the connection.
          closeAfterResponse(req, res);
          return sendError(res, 413, 'BAD_REQUEST', `Request body larger than ${options.bodyLimit} bytes`);
        }
        throw error;
      }
      if (!isJsonContentType(req.headers['content-type'])) {
        return sendError(res, 415, 'BAD_REQUEST', 'Send the request as Content-Type: application/json (or application/graphql-response+json)');
      }
      if (!raw.length) return sendError(res, 400, 'BAD_REQUEST', 'Request body is empty; send {"query": …} as JSON');
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        closeAfterResponse(req, res);
        return sendError(res, 400, 'BAD_REQUEST', 'Request body is not valid JSON');
      }
      if (body && typeof body === 'object' && !Array.isArray(body)) variables = (body as { variables?: unknown }).variables;
    } else if (search.includes('variables=')) {
      const text = new URLSearchParams(search).get('variables');
      if (text && Buffer.byteLength(text) > options.variablesBytes) {
        return sendError(res, 400, 'BAD_USER_INPUT', `variables are larger than ${options.variablesBytes} bytes`, false, 'variables');
      }
      try {
        variables = text ? JSON.parse(text) : undefined;
      } catch {
        // Apollo answers unparsable variables itself.
      }
    }
    const problem = variablesProblem(variables, options);
    if (problem) return sendError(res, 400, 'BAD_USER_INPUT', problem, false, 'variables');
    // Built once: the trusted-documents check may need the principal before Apollo runs.
    let context: Promise<GatewayContext> | undefined;
    const contextOnce = () => (context ??= buildContext(req));
    if (options.trustedDocuments) {
      const request = documentRequest(req.method, body, search);
      if (request) {
        const verdict = await options.trustedDocuments.check(request.fields, async () => (await contextOnce()).principal);
        if (!verdict.ok) return sendError(res, verdict.status, verdict.error.code, verdict.error.message);
        if (verdict.text !== undefined) ({ body, search } = request.withQuery(verdict.text));
      }
    }
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: contextOnce,
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(res.statusCode >= 400 ? withRequestId(response.body.string, requestIdOf(req)) : response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/**
 * The document a GET (`?documentId=…` or `?query=…`) or a JSON POST asks for, and how to
 * rewrite the request to carry a trusted document's text in place of its `documentId`, so
 * that Apollo then does all the rest (GET runs queries only, CSRF prevention, limits).
 * Anything else (a batch, a non-JSON body, another method) is left to Apollo, which refuses it.
 */
function documentRequest(
  method: string | undefined,
  body: unknown,
  search: string,
): { fields: DocumentRequest; withQuery(text: string): { body: unknown; search: string } } | undefined {
  if (method === 'POST' && body && typeof body === 'object' && !Array.isArray(body)) {
    const { documentId, ...rest } = body as Record<string, unknown>;
    return {
      fields: { documentId, query: rest.query, apqHash: apqHashOf(rest.extensions) },
      withQuery: (query) => ({ body: { ...rest, query }, search }),
    };
  }
  if (method === 'GET') {
    const params = new URLSearchParams(search);
    let extensions: unknown;
    try {
      extensions = JSON.parse(params.get('extensions') ?? 'null');
    } catch {
      extensions = undefined; // Apollo answers the bad JSON
    }
    return {
      fields: { documentId: params.get('documentId') ?? undefined, query: params.get('query') ?? undefined, apqHash: apqHashOf(extensions) },
      withQuery: (query) => {
        params.delete('documentId');
        params.set('query', query);
        return { body, search: `?${params.toString()}` };
      },
    };
  }
  return undefined;
}

/**
 * Requests Apollo rejects before its plugins run (CSRF prevention, batching,
 * a bad body) get their errors' `extensions.requestId` here.
 */
function withRequestId(body: string, requestId: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
    if (!Array.isArray(parsed.errors) || parsed.errors.every((e) => e.extensions?.requestId)) return body;
    for (const error of parsed.errors) error.extensions = { ...error.extensions, requestId };
    return JSON.stringify(parsed);
  } catch {
    return body;
  }
}

/** A GraphQL-shaped error answer from the HTTP layer (before Apollo runs), with the request id. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, retryable = false, field?: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  const requestId = res.getHeader('x-request-id');
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, retryable, ...(field ? { field } : {}), ...(requestId ? { requestId } : {}) } }] }));
}
