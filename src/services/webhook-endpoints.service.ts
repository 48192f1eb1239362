import { randomBytes } from 'node:crypto';
import { isUniqueViolation, type Database } from '../db/database';
import type { EventLog } from './event-log';
import { invalidInput, notFound } from '../domain/errors';
import { newId } from '../domain/ids';
import { checkIntRange, checkText } from '../domain/validation';
import { WebhookDeliveryAttemptEntity, WebhookDeliveryEntity, WebhookEndpointEntity, type WebhookDeliveryStatus } from '../entities';
import { requireMerchant } from './access';
import type { Principal } from './merchant.service';
import { checkEndpointUrl, type Resolver } from './outbound-url';
import { paginate, type Page } from './pagination';
import { deliveredEventOf, PING_EVENT_TYPE, publicEndpoint, type WebhookDeliveryService } from './webhook-delivery';

export const MAX_ENDPOINTS_PER_MERCHANT = 20;
export const MAX_PAYLOAD_QUERY_CHARS = 8000;
/** Longest grace period a rotation may ask for. */
export const MAX_SECRET_GRACE_SECONDS = 7 * 86_400;

export interface WebhookEndpointInput {
  url?: unknown;
  eventTypes?: unknown;
  description?: unknown;
  enabled?: unknown;
  payloadQuery?: unknown;
}

/** An endpoint and its signing secret, shown this once. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpointEntity;
  secret: string;
}

/** A new signing secret: `whsec_` + 32 random bytes in base64, the Standard Webhooks form. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The merchant's webhook endpoints and their delivery log (merchant API key
 * only). Every input is checked before anything is written, and each
 * mutation is one transaction: a bad field leaves nothing half-saved.
 */
export class WebhookEndpointService {
  constructor(
    private readonly db: Database,
    private readonly delivery: WebhookDeliveryService,
    /** The event types an endpoint may subscribe to (the event log's list). */
    private readonly eventTypes: readonly string[],
    private readonly options: {
      secretGraceMs: number;
      now?: () => number;
      resolve?: Resolver;
      /** The event log, for redelivering an event this endpoint never had a delivery of. */
      events?: Pick<EventLog, 'get'>;
    },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async create(principal: Principal | null, input: WebhookEndpointInput): Promise<EndpointWithSecret> {
    const merchantId = requireMerchant(principal, 'createWebhookEndpoint');
    const url = await checkEndpointUrl('input.url', input.url, this.delivery.policy, this.options.resolve);
    const eventTypes = this.checkEventTypes('input.eventTypes', input.eventTypes);
    const description = input.description == null ? '' : checkText('input.description', input.description, { min: 0, max: 500 });
    const enabled = input.enabled == null ? true : this.checkBoolean('input.enabled', input.enabled);
    const payloadQuery = this.checkPayloadQuery('input.payloadQuery', input.payloadQuery);
    const now = new Date(this.now());
    const secret = newSigningSecret();
    const endpoint = Object.assign(new WebhookEndpointEntity(), {
      id: newId('we', now.getTime()),
      merchantId,
      url,
      description,
      eventTypes,
      enabled,
      disabledReason: null,
      payloadQuery,
      secret,
      previousSecret: null,
      previousSecretExpiresAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    } satisfies WebhookEndpointEntity);
    await this.db.transaction(async (tx) => {
      const count = await tx.manager.count(WebhookEndpointEntity, { where: { merchantId } });
      if (count >= MAX_ENDPOINTS_PER_MERCHANT)
        throw invalidInput('input', `cannot be saved: a merchant may have at most ${MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints`);
      this.delivery.endpointsChanging();
      await tx.manager.insert(WebhookEndpointEntity, endpoint);
    });
    return { endpoint, secret };
  }

  /** Changes the fields given (absent = unchanged; `payloadQuery: null` removes the document). Re-enabling clears the failure count. */
  async update(principal: Principal | null, id: string, input: WebhookEndpointInput): Promise<WebhookEndpointEntity> {
    const merchantId = requireMerchant(principal, 'updateWebhookEndpoint');
    const changes: Partial<WebhookEndpointEntity> = {};
    if (input.url !== undefined) changes.url = await checkEndpointUrl('input.url', input.url, this.delivery.policy, this.options.resolve);
    if (input.eventTypes !== undefined) changes.eventTypes = this.checkEventTypes('input.eventTypes', input.eventTypes);
    if (input.description !== undefined)
      changes.description = input.description === null ? '' : checkText('input.description', input.description, { min: 0, max: 500 });
    if (input.enabled !== undefined) changes.enabled = this.checkBoolean('input.enabled', input.enabled);
    if (input.payloadQuery !== undefined) changes.payloadQuery = this.checkPayloadQuery('input.payloadQuery', input.payloadQuery);
    return this.db.transaction(async (tx) => {
      const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id, merchantId }, { tx, forUpdate: true });
      if (!endpoint) throw notFound('webhook endpoint', id);
      if (changes.enabled === true && !endpoint.enabled) Object.assign(changes, { disabledReason: null, consecutiveFailures: 0, failingSince: null });
      if (changes.enabled === false && endpoint.enabled) changes.disabledReason = null;
      Object.assign(endpoint, changes, { version: endpoint.version + 1, updatedAt: new Date(this.now()) });
      this.delivery.endpointsChanging();
      await tx.manager.save(endpoint);
      return endpoint;
    });
  }

  /** Deletes the endpoint with its deliveries and their attempts. */
  async delete(principal: Principal | null, id: string): Promise<string> {
    const merchantId = requireMerchant(principal, 'deleteWebhookEndpoint');
    await this.db.transaction(async (tx) => {
      const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id, merchantId }, { tx, forUpdate: true });
      if (!endpoint) throw notFound('webhook endpoint', id);
      await tx.manager
        .createQueryBuilder()
        .delete()
        .from(WebhookDeliveryAttemptEntity)
        .where('delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = :id)', { id })
        .execute();
      await tx.manager.delete(WebhookDeliveryEntity, { endpointId: id });
      this.delivery.endpointsChanging();
      await tx.manager.delete(WebhookEndpointEntity, { id });
    });
    return id;
  }

  /** A new secret, shown once; the old one keeps signing alongside it for `graceSeconds` (default WEBHOOK_SECRET_GRACE_SECONDS). */
  async rotateSecret(principal: Principal | null, id: string, graceSeconds?: number | null): Promise<EndpointWithSecret> {
    const merchantId = requireMerchant(principal, 'rotateWebhookEndpointSecret');
    const graceMs = graceSeconds == null ? this.options.secretGraceMs : checkIntRange('graceSeconds', graceSeconds, 0, MAX_SECRET_GRACE_SECONDS) * 1000;
    const secret = newSigningSecret();
    const endpoint = await this.db.transaction(async (tx) => {
      const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id, merchantId }, { tx, forUpdate: true });
      if (!endpoint) throw notFound('webhook endpoint', id);
      const now = this.now();
      Object.assign(endpoint, {
        previousSecret: graceMs > 0 ? endpoint.secret : null,
        previousSecretExpiresAt: graceMs > 0 ? new Date(now + graceMs) : null,
        secret,
        version: endpoint.version + 1,
        updatedAt: new Date(now),
      });
      await tx.manager.save(endpoint);
      return endpoint;
    });
    return { endpoint, secret };
  }

  async get(principal: Principal | null, id: string): Promise<WebhookEndpointEntity> {
    const merchantId = requireMerchant(principal, 'webhookEndpoint');
    const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id, merchantId });
    if (!endpoint) throw notFound('webhook endpoint', id);
    return endpoint;
  }

  list(principal: Principal | null, args: { first: number; after?: string | null }): Promise<Page<WebhookEndpointEntity>> {
    const merchantId = requireMerchant(principal, 'webhookEndpoints');
    const qb = this.db.manager.createQueryBuilder(WebhookEndpointEntity, 'e').where('e.merchant_id = :merchantId', { merchantId });
    return paginate(qb, 'e', { first: args.first, after: args.after, idPrefix: 'we' });
  }

  /** Sends a ping now (whatever the endpoint subscribes to, enabled or not) and returns its delivery with the attempt. */
  async test(principal: Principal | null, id: string): Promise<WebhookDeliveryEntity> {
    const merchantId = requireMerchant(principal, 'testWebhookEndpoint');
    const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id, merchantId });
    if (!endpoint) throw notFound('webhook endpoint', id);
    const now = new Date(this.now());
    const ping = {
      id: newId('evt', now.getTime()),
      type: PING_EVENT_TYPE,
      createdAt: now.getTime(),
      objectType: 'webhook_endpoint',
      objectId: endpoint.id,
      objectVersion: endpoint.version,
      data: publicEndpoint(endpoint),
    };
    // A ping is not retried: its one attempt is the answer.
    const claimed = await this.db.transaction(async (tx) => {
      const delivery = this.delivery.newDelivery(merchantId, endpoint.id, ping, now, 0);
      await this.delivery.insertDelivery(tx, delivery);
      return this.delivery.claimOne(tx, delivery.id);
    });
    return this.delivery.attempt(claimed!, { evenIfDisabled: true });
  }

  /**
   * Sends the event to the endpoint again now, with a fresh retry window if
   * this attempt fails. Refused for a disabled endpoint; when another
   * instance is attempting it at this moment, that attempt is the answer.
   */
  async redeliver(principal: Principal | null, eventId: string, endpointId: string): Promise<WebhookDeliveryEntity> {
    const merchantId = requireMerchant(principal, 'redeliverEvent');
    const endpoint = await this.db.findOneBy(WebhookEndpointEntity, { id: endpointId, merchantId });
    if (!endpoint) throw notFound('webhook endpoint', endpointId);
    if (!endpoint.enabled) throw invalidInput('endpointId', 'names a disabled endpoint: enable it (updateWebhookEndpoint) before redelivering');
    // An event the endpoint never had a delivery of (it subscribed later, or to other types) gets one now, from the log.
    const existing = await this.db.findOneBy(WebhookDeliveryEntity, { endpointId, eventId, merchantId });
    const fresh = existing ? undefined : await this.deliveryFromLog(merchantId, endpointId, eventId);
    const claim = () =>
      this.db.transaction(async (tx) => {
        // Made and claimed in one transaction: no worker can take it first.
        if (fresh) await this.delivery.insertDelivery(tx, fresh);
        const delivery = await this.delivery.claimOne(tx, (existing ?? fresh)!.id);
        if (delivery) {
          delivery.retryUntil = new Date(this.now() + this.delivery.retryForMs);
          await tx.manager.update(WebhookDeliveryEntity, { id: delivery.id }, { retryUntil: delivery.retryUntil });
        }
        return delivery;
      });
    let claimed: Awaited<ReturnType<typeof claim>>;
    try {
      claimed = await claim();
    } catch (error) {
      // Another redelivery made the same row at the same moment: that one is the answer.
      if (fresh && isUniqueViolation(error)) return this.db.findOneByOrFail(WebhookDeliveryEntity, { endpointId, eventId });
      throw error;
    }
    const row = (existing ?? fresh)!;
    if (!claimed) return (await this.db.findOneBy(WebhookDeliveryEntity, { id: row.id })) ?? row;
    return this.delivery.attempt(claimed);
  }

  /** A new delivery row (not yet written) of a logged event to an endpoint; NOT_FOUND when the log has no such event. */
  private async deliveryFromLog(merchantId: string, endpointId: string, eventId: string): Promise<WebhookDeliveryEntity> {
    const event = await this.options.events?.get(merchantId, eventId);
    if (!event) throw notFound('event', eventId);
    return this.delivery.newDelivery(merchantId, endpointId, deliveredEventOf(event), new Date(this.now()));
  }

  /** The delivery log, newest first; filters combine. */
  deliveries(
    principal: Principal | null,
    args: { endpointId?: string | null; eventId?: string | null; status?: WebhookDeliveryStatus | null; first: number; after?: string | null },
  ): Promise<Page<WebhookDeliveryEntity>> {
    const merchantId = requireMerchant(principal, 'webhookDeliveries');
    const qb = this.db.manager.createQueryBuilder(WebhookDeliveryEntity, 'd').where('d.merchant_id = :merchantId', { merchantId });
    if (args.endpointId) qb.andWhere('d.endpoint_id = :endpointId', { endpointId: args.endpointId });
    if (args.eventId) qb.andWhere('d.event_id = :eventId', { eventId: args.eventId });
    if (args.status) qb.andWhere('d.status = :status', { status: args.status });
    return paginate(qb, 'd', { first: args.first, after: args.after, idPrefix: 'whd' });
  }

  /** Attempts of each delivery, oldest first (one query for a page). */
  async attemptsByDeliveryIds(ids: readonly string[]): Promise<WebhookDeliveryAttemptEntity[][]> {
    if (!ids.length) return [];
    const rows = await this.db.manager
      .createQueryBuilder(WebhookDeliveryAttemptEntity, 'a')
      .where('a.delivery_id IN (:...ids)', { ids: [...ids] })
      .orderBy('a.started_at', 'ASC')
      .addOrderBy('a.id', 'ASC')
      .getMany();
    const byDelivery = new Map<string, WebhookDeliveryAttemptEntity[]>();
    for (const row of rows) byDelivery.set(row.deliveryId, [...(byDelivery.get(row.deliveryId) ?? []), row]);
    return ids.map((id) => byDelivery.get(id) ?? []);
  }

  private checkEventTypes(field: string, value: unknown): string[] {
    if (!Array.isArray(value) || value.length === 0) throw invalidInput(field, 'must list at least one event type');
    if (value.length > this.eventTypes.length) throw invalidInput(field, `may list at most ${this.eventTypes.length} event types`);
    const seen = new Set<string>();
    value.forEach((type, i) => {
      if (typeof type !== 'string' || !this.eventTypes.includes(type)) {
        throw invalidInput(`${field}[${i}]`, `must be one of ${this.eventTypes.join(', ')}`);
      }
      if (seen.has(type)) throw invalidInput(`${field}[${i}]`, `repeats ${type}`);
      seen.add(type);
    });
    return [...seen];
  }

  private checkBoolean(field: string, value: unknown): boolean {
    if (typeof value !== 'boolean') throw invalidInput(field, 'must be true or false');
    return value;
  }

  private checkPayloadQuery(field: string, value: unknown): string | null {
    if (value == null) return null;
    const document = checkText(field, value, { max: MAX_PAYLOAD_QUERY_CHARS });
    if (!this.delivery.shaper) throw invalidInput(field, 'cannot be checked: payload shaping is not available on this instance');
    const problem = this.delivery.shaper.check(document);
    if (problem) throw invalidInput(field, `is not a valid payload query: ${problem}`);
    return document;
  }
}
