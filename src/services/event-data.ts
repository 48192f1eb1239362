import type { BillingSubscriptionEntity, PaymentEntity, RefundEntity } from '../entities';

/**
 * The `data` of an event: the object at that version in its public shape,
 * the fields the GraphQL type shows (dates as ISO 8601 strings, as
 * DateTimeISO serializes them). Listed field by field so that nothing private
 * (a client secret, internal bookkeeping) can leak in when
 * an entity gains a column.
 */
export function paymentData(p: PaymentEntity): Record<string, unknown> {
  return {
    id: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    description: p.description,
    merchantReference: p.merchantReference,
    checkoutUrl: p.checkoutUrl,
    providerOrderId: p.providerOrderId,
    transactionId: p.transactionId,
    refundedAmount: p.refundedAmount,
    failureCode: p.failureCode,
    failureMessage: p.failureMessage,
    version: p.version,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
    paidAt: iso(p.paidAt),
    expiresAt: iso(p.expiresAt),
    metadata: p.metadata ?? {},
  };
}

export function refundData(r: RefundEntity): Record<string, unknown> {
  return {
    id: r.id,
    paymentId: r.paymentId,
    status: r.status,
    amount: r.amount,
    currency: r.currency,
    reason: r.reason,
    merchantReference: r.merchantReference,
    providerRefundId: r.providerRefundId,
    failureCode: r.failureCode,
    failureMessage: r.failureMessage,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    succeededAt: iso(r.succeededAt),
  };
}

export function subscriptionData(s: BillingSubscriptionEntity): Record<string, unknown> {
  return {
    id: s.id,
    status: s.status,
    amount: s.amount,
    currency: s.currency,
    interval: s.interval,
    intervalCount: s.intervalCount,
    startDate: s.startDate,
    trialDays: s.trialDays,
    merchantReference: s.merchantReference,
    customer: { id: s.customerId, email: s.customerEmail, name: s.customerName },
    authorizationUrl: s.authorizationUrl,
    providerSubscriptionId: s.providerSubscriptionId,
    currentPeriodStart: iso(s.currentPeriodStart),
    currentPeriodEnd: iso(s.currentPeriodEnd),
    nextBillingAt: iso(s.nextBillingAt),
    cancelAtPeriodEnd: s.cancelAtPeriodEnd,
    cancelledAt: iso(s.cancelledAt),
    failedRenewalCount: s.failedRenewalCount,
    failureCode: s.failureCode,
    pendingUpdate: s.pendingUpdate ? { ...s.pendingUpdate } : null,
    chargeCount: s.providerChargeCount,
    metadata: s.metadata ?? {},
    version: s.version,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

function iso(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}
