import type { Principal } from '../services/merchant.service';
import type { Services } from '../services';
import type { Logger } from '../logger';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver gets. Built per request (HTTP) or per connection (WebSocket). */
export interface GatewayContext {
  principal: Principal | null;
  requestId: string;
  /** The Idempotency-Key HTTP header, when sent. */
  idempotencyKey?: string;
  services: Services;
  loaders: Loaders;
  log: Logger;
}

/** `Bearer <token>` → token; anything else → null. */
export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/**
 * A context for one operation (an HTTP request, a graphql-ws connection, an
 * outbound payload query): the loaders and the child logger are made when
 * first used, since most operations need neither. `live`: the context
 * outlives one result (a subscription), so its loaders must not cache
 * between pushes.
 */
export function gatewayContext(
  base: { principal: Principal | null; requestId: string; idempotencyKey?: string; services: Services; log: Logger },
  options: { live?: boolean; logFields?: Record<string, unknown> } = {},
): GatewayContext {
  let loaders: Loaders | undefined;
  let log: Logger | undefined;
  return {
    principal: base.principal,
    requestId: base.requestId,
    idempotencyKey: base.idempotencyKey,
    services: base.services,
    get loaders() {
      return (loaders ??= createLoaders(base.services, base.principal, { cache: !options.live }));
    },
    get log() {
      return (log ??= base.log.child(options.logFields ?? { requestId: base.requestId }));
    },
  };
}
