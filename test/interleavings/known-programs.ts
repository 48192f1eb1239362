/**
 * Interleavings the property is known to reach, written out as programs: the
 * reproductions of issue 12, replayed on every run so that they keep being
 * checked even when the random search does not happen to draw them.
 */
import type { Step } from './program';

export const KNOWN_PROGRAMS: Array<{ name: string; steps: Step[] }> = [
  {
    // UCANPAY_MAX_ATTEMPTS=1: the create gets a 503; past expiry, reconciliation's
    // GET /payment/status is slow and hears "no such order" while a same-key retry
    // creates it; reconciliation fails the payment, the retry hands out its checkout URL.
    name: 'reconciliation races a same-key retry past expiry',
    steps: [
      { t: 'create', p: 0, input: 'same', fault: '503-before' },
      { t: 'clock', seconds: 1801, tick: false },
      {
        t: 'par',
        steps: [
          { t: 'reconcile', fault: 'slow-after' },
          { t: 'create', p: 0, input: 'same', fault: 'slow-after' },
        ],
      },
      { t: 'checkout', p: 0, action: 'authorize' },
    ],
  },
  {
    // p1 expires after 60 s. Its unifiedorder waits before UCanPay processes it;
    // meanwhile 61 s pass (the 60 s claim lease lapses) and reconciliation fails it.
    name: 'the idempotency lease is shorter than one UCanPay call',
    steps: [
      {
        t: 'par',
        steps: [
          { t: 'create', p: 1, input: 'same', fault: 'slow-before' },
          { t: 'clock', seconds: 61, tick: false },
          { t: 'reconcile', fault: 'none' },
        ],
      },
      { t: 'checkout', p: 1, action: 'authorize' },
    ],
  },
  {
    // PAYMENT_NOT_REFUNDABLE on a PENDING payment, then paid: the same key and input refunds.
    name: 'a refusal is not stored',
    steps: [
      { t: 'create', p: 0, input: 'same', fault: 'none' },
      { t: 'refund', p: 0, key: 0, amount: 6000, fault: 'none' },
      { t: 'checkout', p: 0, action: 'authorize' },
      { t: 'refresh', p: 0, fault: 'none' },
      { t: 'refund', p: 0, key: 0, amount: 6000, fault: 'none' },
    ],
  },
  {
    // A signed payment.succeeded, new event id, 60 s older, another transaction_id.
    name: 'an older snapshot replaces the transaction id',
    steps: [
      { t: 'create', p: 0, input: 'same', fault: 'none' },
      { t: 'checkout', p: 0, action: 'authorize' },
      { t: 'refresh', p: 0, fault: 'none' },
      { t: 'staleEvent', p: 0, tx: 'other' },
    ],
  },
];
