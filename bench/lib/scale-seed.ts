/**
 * Seeds a year of a merchant's data straight into the gateway's tables, in
 * SQL (INSERT … SELECT over a generated series: no rows cross the driver),
 * so a million payments take seconds, not the hours the API would. Used by
 * the data-scale bench (`--only=scale`) and, at a small size, by
 * test/db/query-plans.test.ts.
 *
 * Shapes, for `payments` = N:
 * - 10 merchants, the big one (`bigMerchantId`, the one measured) holding 90 %;
 * - N historical payments over the last year: 70 % PAID, 10 % REFUNDED,
 *   10 % PARTIALLY_REFUNDED, 6 % FAILED, 3 % EXPIRED, 1 % CANCELLED; plus a
 *   fixed `pending` count of recent PENDING payments (checkouts in progress:
 *   their number follows the traffic, not the age of the table);
 * - 0.2 N refunds (on the refunded payments; the newest 20 PROCESSING);
 * - 0.1 N billing subscriptions (2 per customer; 1 % PAST_DUE), 3 charges each;
 * - 2 N webhook inbox rows over the year;
 * - N idempotency keys, half expired.
 * Ids have the gateway's shape (`pay_` + 26 base32 digits), so cursors work.
 */
export type SeedKind = 'sqlite' | 'postgres';

export interface ScaleSizes {
  payments: number;
  /** Recent PENDING payments, on top of `payments`. */
  pending: number;
}

export interface SeedOptions {
  kind: SeedKind;
  /** Runs one statement (inside a transaction of its own on SQLite, or autocommit on PostgreSQL). */
  exec: (sql: string) => Promise<unknown>;
  bigMerchantId: string;
  sizes: ScaleSizes;
  /** The end of the seeded year (default now). */
  now?: number;
  /** Rows per INSERT statement (SQLite holds the writer for one statement at a time). */
  chunk?: number;
  progress?: (line: string) => void;
}

export const OTHER_MERCHANTS = Array.from({ length: 9 }, (_, i) => `mer_scale${i}`);
const YEAR_MS = 365 * 86_400_000;
const HOUR_MS = 3_600_000;

/** Row counts the seed produces for `sizes`. */
export function seededCounts(sizes: ScaleSizes) {
  const n = sizes.payments;
  return {
    payments: n + sizes.pending,
    refunds: Math.floor(n / 5),
    subscriptions: Math.floor(n / 10),
    charges: 3 * Math.floor(n / 10),
    webhookEvents: 2 * n,
    idempotencyKeys: n,
  };
}

export async function seedScale(options: SeedOptions): Promise<void> {
  const { kind, exec, bigMerchantId, sizes } = options;
  const now = options.now ?? Date.now();
  const chunk = options.chunk ?? 100_000;
  const counts = seededCounts(sizes);
  const pg = kind === 'postgres';
  const big = (n: string) => (pg ? `(${n})::bigint` : n);
  const pad = (n: string) => (pg ? `lpad((${n})::text, 26, '0')` : `substr('00000000000000000000000000' || (${n}), -26, 26)`);
  const text = (n: string) => (pg ? `(${n})::text` : `(${n})`);
  const bool = (v: boolean) => (pg ? String(v) : v ? '1' : '0');
  /**
   * A unique id in no particular order (8 hex digits of a multiplicative hash of n, then n): UCanPay's event
   * ids and clients' idempotency keys are random, so their B-tree order has nothing to do with time.
   */
  const scattered = (n: string) =>
    pg ? `lpad(to_hex((${big(n)} * 2654435761) % 4294967296), 8, '0') || '_' || (${n})::text` : `printf('%08x_%d', ((${n}) * 2654435761) % 4294967296, ${n})`;
  const merchantOf = (n: string) => `CASE WHEN (${n}) % 10 < 9 THEN '${bigMerchantId}' ELSE 'mer_scale' || ${text(`((${n}) / 10) % 9`)} END`;

  /** INSERT INTO table (columns) SELECT select FROM n = from .. to-1, in chunks. */
  const insertSeries = async (label: string, table: string, columns: string[], select: string[], total: number, from = 0) => {
    for (let start = from; start < from + total; start += chunk) {
      const end = Math.min(from + total, start + chunk);
      const cols = columns.map((c) => `"${c}"`).join(', ');
      const sql = pg
        ? `INSERT INTO "${table}" (${cols}) SELECT ${select.join(', ')} FROM generate_series(${start}, ${end - 1}) AS s(n)`
        : `WITH RECURSIVE s(n) AS (SELECT ${start} UNION ALL SELECT n + 1 FROM s WHERE n < ${end - 1}) INSERT INTO "${table}" (${cols}) SELECT ${select.join(', ')} FROM s`;
      await exec(sql);
      options.progress?.(`${label}: ${end - from}/${total}`);
    }
  };

  for (const id of OTHER_MERCHANTS) {
    await exec(
      `INSERT INTO "merchants" ("id", "name", "ucanpay_merchant_id", "ucanpay_secret_key", "ucanpay_webhook_secret", "created_at") VALUES ('${id}', 'Scale ${id}', 'mch_${id}', 'sk_${id}', 'wh_${id}', ${now - YEAR_MS})`,
    );
  }

  const n = sizes.payments;
  const step = Math.max(1, Math.floor(YEAR_MS / Math.max(1, n)));
  const created = (expr: string) => `(${now - YEAR_MS} + ${big(expr)} * ${step})`;
  const paymentColumns = [
    'id',
    'merchant_id',
    'merchant_reference',
    'status',
    'amount',
    'currency',
    'description',
    'return_url',
    'metadata',
    'expires_in_seconds',
    'client_secret',
    'provider_order_id',
    'checkout_url',
    'transaction_id',
    'refunded_amount',
    'failure_code',
    'failure_message',
    'version',
    'expires_at',
    'paid_at',
    'created_at',
    'updated_at',
    'synced_at',
  ];
  const m = '(n % 100)';
  const status = `CASE WHEN ${m} < 70 THEN 'PAID' WHEN ${m} < 80 THEN 'REFUNDED' WHEN ${m} < 90 THEN 'PARTIALLY_REFUNDED' WHEN ${m} < 96 THEN 'FAILED' WHEN ${m} < 99 THEN 'EXPIRED' ELSE 'CANCELLED' END`;
  const amount = '(500 + (n % 50) * 100)';
  const paid = `${m} < 90`;
  await insertSeries(
    'payments',
    'payments',
    paymentColumns,
    [
      `'pay_' || ${pad('n')}`,
      merchantOf('n'),
      `'ord-' || ${text('n')}`,
      status,
      amount,
      `'USD'`,
      `'Seeded order'`,
      `'https://shop.example/return'`,
      `'{}'`,
      '1800',
      `'pay_' || ${pad('n')} || '_secret_seeded'`,
      `'ord_seed_' || ${text('n')}`,
      'NULL',
      `CASE WHEN ${paid} THEN 'txn_seed_' || ${text('n')} ELSE NULL END`,
      `CASE WHEN ${m} BETWEEN 70 AND 79 THEN ${amount} WHEN ${m} BETWEEN 80 AND 89 THEN ${amount} / 2 ELSE 0 END`,
      `CASE WHEN ${m} BETWEEN 90 AND 95 THEN 'CARD_DECLINED' ELSE NULL END`,
      'NULL',
      '3',
      `${created('n')} + 1800000`,
      `CASE WHEN ${paid} THEN ${created('n')} + 60000 ELSE NULL END`,
      created('n'),
      `${created('n')} + 120000`,
      `${created('n')} + 120000`,
    ],
    n,
  );
  // Checkouts in progress: created in the last 20 minutes, synced recently.
  const recent = (expr: string) => `(${now - 20 * 60_000} + (${expr} - ${n}) * ${Math.max(1, Math.floor((20 * 60_000) / Math.max(1, sizes.pending)))})`;
  await insertSeries(
    'pending payments',
    'payments',
    paymentColumns,
    [
      `'pay_' || ${pad('n')}`,
      merchantOf('n'),
      `'ord-' || ${text('n')}`,
      `'PENDING'`,
      amount,
      `'USD'`,
      `'Checkout in progress'`,
      `'https://shop.example/return'`,
      `'{}'`,
      '1800',
      `'pay_' || ${pad('n')} || '_secret_seeded'`,
      `'ord_seed_' || ${text('n')}`,
      `'https://ucanpay.example/checkout/' || ${text('n')}`,
      'NULL',
      '0',
      'NULL',
      'NULL',
      '2',
      `${recent('n')} + 1800000`,
      'NULL',
      recent('n'),
      recent('n'),
      `${now}`,
    ],
    sizes.pending,
    n,
  );

  // Refund k belongs to payment (k / 20) * 100 + 70 + k % 20 (one of the REFUNDED / PARTIALLY_REFUNDED ones).
  const payOf = '((n / 20) * 100 + 70 + n % 20)';
  await insertSeries(
    'refunds',
    'refunds',
    [
      'id',
      'merchant_id',
      'payment_id',
      'merchant_reference',
      'status',
      'amount',
      'currency',
      'reason',
      'provider_refund_id',
      'failure_code',
      'failure_message',
      'version',
      'created_at',
      'updated_at',
      'succeeded_at',
      'synced_at',
    ],
    [
      `'ref_' || ${pad('n')}`,
      merchantOf(payOf),
      `'pay_' || ${pad(payOf)}`,
      `'rf-' || ${text('n')}`,
      `CASE WHEN n >= ${counts.refunds - 20} THEN 'PROCESSING' ELSE 'SUCCEEDED' END`,
      '250',
      `'USD'`,
      `''`,
      `'rfd_seed_' || ${text('n')}`,
      'NULL',
      'NULL',
      '3',
      `${created(payOf)} + 86400000`,
      `CASE WHEN n >= ${counts.refunds - 20} THEN ${now - 60_000} ELSE ${created(payOf)} + 86460000 END`,
      `CASE WHEN n >= ${counts.refunds - 20} THEN NULL ELSE ${created(payOf)} + 86460000 END`,
      `${now}`,
    ],
    counts.refunds,
  );

  const subStep = Math.max(1, Math.floor(YEAR_MS / Math.max(1, counts.subscriptions)));
  const subCreated = `(${now - YEAR_MS} + ${big('n')} * ${subStep})`;
  const sm = '(n % 100)';
  const subStatus = `CASE WHEN ${sm} < 75 THEN 'ACTIVE' WHEN ${sm} < 80 THEN 'TRIALING' WHEN ${sm} < 95 THEN 'CANCELLED' WHEN ${sm} < 99 THEN 'UNPAID' ELSE 'PAST_DUE' END`;
  const nextBilling = `${now} + ${big('(n % 30) + 1')} * 86400000`;
  await insertSeries(
    'subscriptions',
    'billing_subscriptions',
    [
      'id',
      'merchant_id',
      'merchant_reference',
      'status',
      'customer_id',
      'customer_email',
      'customer_name',
      'amount',
      'currency',
      'billing_interval',
      'interval_count',
      'start_date',
      'trial_days',
      'return_url',
      'metadata',
      'authorization_url',
      'provider_subscription_id',
      'current_period_start',
      'current_period_end',
      'next_billing_at',
      'cancel_at_period_end',
      'cancelled_at',
      'failed_renewal_count',
      'pending_update',
      'failure_code',
      'failure_message',
      'provider_charge_count',
      'provider_updated_at',
      'version',
      'created_at',
      'updated_at',
      'synced_at',
    ],
    [
      `'sub_' || ${pad('n')}`,
      merchantOf('n'),
      `'sb-' || ${text('n')}`,
      subStatus,
      `'cus_' || ${text('n / 2')}`,
      `'c' || ${text('n')} || '@example.com'`,
      `'Customer'`,
      '999',
      `'USD'`,
      `'MONTH'`,
      '1',
      `'2026-01-01'`,
      '0',
      'NULL',
      `'{}'`,
      'NULL',
      `'psub_seed_' || ${text('n')}`,
      `${nextBilling} - 2592000000`,
      nextBilling,
      `CASE WHEN ${sm} < 80 OR ${sm} = 99 THEN ${nextBilling} ELSE NULL END`,
      bool(false),
      `CASE WHEN ${sm} BETWEEN 80 AND 94 THEN ${subCreated} + 86400000 ELSE NULL END`,
      `CASE WHEN ${sm} = 99 THEN 1 ELSE 0 END`,
      'NULL',
      'NULL',
      'NULL',
      '3',
      `${now - 3 * HOUR_MS}`,
      '5',
      subCreated,
      `CASE WHEN ${sm} = 99 THEN ${now - 3 * HOUR_MS} ELSE ${subCreated} + 86400000 END`,
      `${now}`,
    ],
    counts.subscriptions,
  );
  await insertSeries(
    'subscription charges',
    'subscription_charges',
    ['id', 'merchant_id', 'subscription_id', 'provider_charge_id', 'amount', 'currency', 'status', 'failure_code', 'period_start', 'period_end', 'created_at'],
    [
      `'chg_' || ${pad('n')}`,
      merchantOf('n / 3'),
      `'sub_' || ${pad('n / 3')}`,
      `'pch_seed_' || ${text('n')}`,
      '999',
      `'USD'`,
      `'SUCCEEDED'`,
      'NULL',
      `${now - YEAR_MS} + ${big('n')} * ${Math.max(1, Math.floor(YEAR_MS / Math.max(1, counts.charges)))}`,
      `${now - YEAR_MS} + ${big('n')} * ${Math.max(1, Math.floor(YEAR_MS / Math.max(1, counts.charges)))} + 2592000000`,
      `${now - YEAR_MS} + ${big('n')} * ${Math.max(1, Math.floor(YEAR_MS / Math.max(1, counts.charges)))}`,
    ],
    counts.charges,
  );

  const evStep = Math.max(1, Math.floor(YEAR_MS / Math.max(1, counts.webhookEvents)));
  await insertSeries(
    'webhook inbox',
    'webhook_events',
    ['merchant_id', 'event_id', 'type', 'outcome', 'object_id', 'event_created_at', 'received_at'],
    [
      merchantOf('n / 2'),
      `'evt_' || ${scattered('n')}`,
      `'payment.succeeded'`,
      `'applied'`,
      `'pay_' || ${pad('n / 2')}`,
      `${now - YEAR_MS} + ${big('n')} * ${evStep}`,
      `${now - YEAR_MS} + ${big('n')} * ${evStep} + 50`,
    ],
    counts.webhookEvents,
  );

  // Even keys expired a day or more ago; odd keys were made within the last 40 hours.
  const keyCreated = `CASE WHEN n % 2 = 0 THEN ${now - 72 * HOUR_MS} - ${big('n')} ELSE ${now} - ${big('n')} % ${40 * HOUR_MS} END`;
  await insertSeries(
    'idempotency keys',
    'idempotency_keys',
    ['merchant_id', 'key', 'operation', 'request_hash', 'state', 'resource_id', 'locked_until', 'created_at', 'expires_at'],
    [
      merchantOf('n'),
      `'seed-' || ${scattered('n')}`,
      `'createPayment'`,
      `'${'0'.repeat(64)}'`,
      `'COMPLETED'`,
      `'pay_' || ${pad('n')}`,
      '0',
      keyCreated,
      `${keyCreated} + ${48 * HOUR_MS}`,
    ],
    counts.idempotencyKeys,
  );
}
