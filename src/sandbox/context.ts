import type { SandboxClock } from './clock';
import type { FaultRegistry } from './faults';
import type { Logger } from './logger';
import type { Store } from './store';
import type { WebhookDispatcher } from './webhooks';

/** Everything the domain modules need; built once by `createSandbox`. */
export interface SandboxContext {
  store: Store;
  clock: SandboxClock;
  faults: FaultRegistry;
  webhooks: WebhookDispatcher;
  log: Logger;
  /** Base of pay_url (publicUrl), known once the server listens. */
  baseUrl(): string;
  refundDelayMs: number;
  /** Asks for a due-refund check in `delayMs` of real time. */
  scheduleRefundCheck(delayMs: number): void;
}

/** Writes a webhook event to the outbox (inside the current transaction). */
export function emit(
  ctx: SandboxContext,
  type: string,
  target: { merchantId: string; objectId: string; notifyUrl: string | null },
  object: unknown,
  createdMs: number,
): Promise<string> {
  return ctx.webhooks.enqueue({ ...target, type, object, createdMs });
}
