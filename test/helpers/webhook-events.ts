/** The fields of a payment that a UCanPay order snapshot repeats. */
export interface PaidPaymentRef {
  providerOrderId: string | null;
  merchantReference: string;
  amount: number;
  currency: string;
}

/** A `payment.succeeded` event for `payment`, as UCanPay sends it (sign the JSON with signWebhookPayload). */
export function paymentSucceededEvent(payment: PaidPaymentRef, ids: { eventId: string; transactionId: string }) {
  return {
    id: ids.eventId,
    type: 'payment.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        order_id: payment.providerOrderId,
        out_trade_no: payment.merchantReference,
        status: 'PAID',
        amount: payment.amount,
        currency: payment.currency,
        refunded_amount: 0,
        transaction_id: ids.transactionId,
        paid_at: new Date().toISOString(),
      },
    },
  };
}
