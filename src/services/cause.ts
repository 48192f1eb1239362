import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './merchant.service';

/** What made a change, as its event records it: the API key's id (never the key), a payment's client secret (by the payment's id), a UCanPay webhook's event id… */
export interface Cause {
  kind: 'api_key' | 'client_secret' | 'ucanpay_webhook' | 'reconciliation' | 'refresh' | 'system';
  id: string | null;
}

const SYSTEM: Cause = Object.freeze({ kind: 'system', id: null }) as Cause;

/**
 * The cause of whatever the current async flow writes. Set at the entry
 * points (a GraphQL operation, a UCanPay webhook, a reconciliation pass, a
 * refresh) so that the one write path can record it without every service
 * signature carrying it.
 */
const storage = new AsyncLocalStorage<{ cause: Cause }>();

/** Runs `fn` with `cause` as the cause of its writes. */
export function withCause<T>(cause: Cause, fn: () => T): T {
  return storage.run({ cause }, fn);
}

/**
 * Runs `fn` in a scope whose cause is decided later, inside it (`setCause`):
 * a GraphQL request only knows its principal once its context is built, after
 * the handler was entered.
 */
export function inCauseScope<T>(fn: () => T): T {
  return storage.run({ cause: SYSTEM }, fn);
}

/** Sets the cause of the enclosing scope (`inCauseScope`); outside one, nothing. */
export function setCause(cause: Cause): void {
  const scope = storage.getStore();
  if (scope) scope.cause = cause;
}

/** The cause of the current flow (`system` when no entry point set one: a job, a test). */
export function currentCause(): Cause {
  return storage.getStore()?.cause ?? SYSTEM;
}

/**
 * The cause of a GraphQL operation's writes. A refresh (`payment(id, refresh:
 * true)`) is marked by the refresh itself (`withCause`), over this one.
 */
export function causeOfPrincipal(principal: Principal | null): Cause {
  if (!principal) return SYSTEM;
  if (principal.kind === 'client') return { kind: 'client_secret', id: principal.paymentId };
  return { kind: 'api_key', id: principal.keyId ?? null };
}

/** The cause of a refresh a client asked for (`payment(id, refresh: true)`…): `refresh`, with the API key's id (or the client secret's payment). */
export function refreshCause(principal: Principal | null): Cause {
  return { kind: 'refresh', id: causeOfPrincipal(principal).id };
}
