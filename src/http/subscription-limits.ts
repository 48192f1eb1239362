import { GraphQLError } from 'graphql';
import type { Context, ServerOptions } from 'graphql-ws';
import type { Limits } from '../config';
import type { Principal } from '../services/merchant.service';
import { variablesProblem } from './variables-limits';

export type SubscriptionLimits = Pick<
  Limits,
  'subscriptionsPerConnection' | 'subscriptionsPerClientSecret' | 'subscriptionsPerMerchant' | 'variablesDepth' | 'variablesBytes' | 'wsConnectionInitTimeoutMs'
>;

/** The code of a subscription refused for being over a limit (docs/errors.md). */
export const SUBSCRIPTION_LIMIT_CODE = 'SUBSCRIPTION_LIMIT_REACHED';

/**
 * Counts the active operations (subscriptions, and queries while they run)
 * of each graphql-ws connection and of each principal — a payment's client
 * secret, or a merchant (all its API keys) — on this instance. One over a
 * limit is refused with SUBSCRIPTION_LIMIT_REACHED; completing one frees
 * its place, and a closed connection frees all of its own.
 */
export class SubscriptionLimiter {
  private readonly perPrincipal = new Map<string, number>();
  /** Per connection: operation id → the principal key it counts under ('' = none). */
  private readonly byConnection = new WeakMap<object, Map<string, string>>();

  /** Active operations on this instance, all connections (metrics). */
  active = 0;

  constructor(private readonly limits: SubscriptionLimits) {}

  /** Takes a place for operation `id`; returns the error when there is none. */
  acquire(connection: object, id: string, principal: Principal | null): GraphQLError | undefined {
    let ops = this.byConnection.get(connection);
    if (!ops) this.byConnection.set(connection, (ops = new Map()));
    if (ops.size >= this.limits.subscriptionsPerConnection) {
      return refusal(
        `this connection already has ${ops.size} active subscriptions (limit ${this.limits.subscriptionsPerConnection}); complete one first`,
        this.limits.subscriptionsPerConnection,
      );
    }
    const key = principal ? (principal.kind === 'client' ? `client:${principal.paymentId}` : `merchant:${principal.merchantId}`) : '';
    if (key) {
      const limit = principal!.kind === 'client' ? this.limits.subscriptionsPerClientSecret : this.limits.subscriptionsPerMerchant;
      const count = this.perPrincipal.get(key) ?? 0;
      if (count >= limit) {
        const who = principal!.kind === 'client' ? 'this client secret' : "this merchant's API keys";
        return refusal(`${who} already hold ${count} active subscriptions on this server (limit ${limit}); complete one first`, limit);
      }
      this.perPrincipal.set(key, count + 1);
    }
    ops.set(id, key);
    this.active++;
    return undefined;
  }

  release(connection: object, id: string): void {
    const ops = this.byConnection.get(connection);
    const key = ops?.get(id);
    if (key === undefined) return;
    ops!.delete(id);
    this.active--;
    if (!key) return;
    const left = (this.perPrincipal.get(key) ?? 1) - 1;
    if (left > 0) this.perPrincipal.set(key, left);
    else this.perPrincipal.delete(key);
  }

  releaseAll(connection: object): void {
    for (const id of [...(this.byConnection.get(connection)?.keys() ?? [])]) this.release(connection, id);
    this.byConnection.delete(connection);
  }

  /** Active operations of a principal key (`client:<paymentId>` / `merchant:<merchantId>`). */
  activeOf(key: string): number {
    return this.perPrincipal.get(key) ?? 0;
  }
}

function refusal(message: string, limit: number): GraphQLError {
  return new GraphQLError(`Subscription refused: ${message}`, { extensions: { code: SUBSCRIPTION_LIMIT_CODE, limit } });
}

/**
 * graphql-ws options with the limits around them: a deadline for
 * `connection_init` (the socket counts against the connection caps from
 * the upgrade on, and cannot be held without it), the variables bounds of
 * HTTP, and the subscription counts of SubscriptionLimiter. The wrapped
 * options' own hooks run unchanged inside.
 */
export function withSubscriptionLimits<P extends Record<string, unknown> | undefined, E>(
  options: ServerOptions<P, E>,
  limiter: SubscriptionLimiter,
  principalOf: (authorization: unknown) => Promise<Principal | null>,
  limits: SubscriptionLimits,
): ServerOptions<P, E> {
  /** One authentication per connection: its connectionParams never change. */
  const principals = new WeakMap<object, Promise<Principal | null>>();
  const principal = (ctx: Context<P, E>) => {
    let found = principals.get(ctx);
    if (!found) {
      found = principalOf((ctx.connectionParams as { authorization?: unknown } | undefined)?.authorization).catch(() => null);
      principals.set(ctx, found);
    }
    return found;
  };
  return {
    ...options,
    connectionInitWaitTimeout: limits.wsConnectionInitTimeoutMs,
    onSubscribe: async (ctx, id, payload) => {
      const problem = variablesProblem(payload.variables, limits);
      if (problem) return [new GraphQLError(problem, { extensions: { code: 'BAD_USER_INPUT', field: 'variables' } })];
      const refused = limiter.acquire(ctx, id, await principal(ctx));
      if (refused) return [refused];
      try {
        const result = await options.onSubscribe?.(ctx, id, payload);
        if (Array.isArray(result)) limiter.release(ctx, id);
        return result;
      } catch (error) {
        limiter.release(ctx, id);
        throw error;
      }
    },
    onComplete: async (ctx, id, payload) => {
      limiter.release(ctx, id);
      await options.onComplete?.(ctx, id, payload);
    },
    onClose: async (ctx, code, reason) => {
      limiter.releaseAll(ctx);
      await options.onClose?.(ctx, code, reason);
    },
  };
}
