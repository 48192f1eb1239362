import type { Principal } from '../services/merchant.service';
import type { Services } from '../services';
import type { Logger } from '../logger';
import type { Loaders } from './loaders';

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
