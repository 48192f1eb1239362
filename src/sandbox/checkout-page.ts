/**
 * The hosted checkout page: self-contained HTML (inline CSS, no external
 * assets). Everything that comes from a request is HTML-escaped.
 */
import { displayAmount } from './currencies';
import { iso } from './clock';
import { describeInterval } from './periods';
import { nextBillingAt } from './present';
import type { OrderRecord, SubscriptionRecord } from './types';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5d6678; --line: #e3e6ee; --brand: #2454e6; --bad: #b42318; --ok: #067647; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  background: linear-gradient(160deg, #eef2fb, #f7f8fb); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
main { width: min(440px, calc(100vw - 32px)); background: #fff; border: 1px solid var(--line); border-radius: 14px;
  box-shadow: 0 10px 30px rgba(29, 35, 48, .08); padding: 28px; }
header { display: flex; justify-content: space-between; align-items: center; margin-bottom: 20px; }
.brand { font-weight: 700; letter-spacing: .02em; color: var(--brand); }
.badge { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); border: 1px solid var(--line); border-radius: 999px; padding: 2px 10px; }
.merchant { margin: 0; color: var(--muted); }
.merchant strong { color: var(--ink); }
.amount { font-size: 34px; font-weight: 700; margin: 6px 0 4px; font-variant-numeric: tabular-nums; }
.per { font-size: 18px; font-weight: 500; color: var(--muted); }
.desc { margin: 0 0 18px; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 14px; margin: 0 0 22px; font-size: 14px; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
form { display: grid; gap: 10px; }
button { font: inherit; border-radius: 10px; padding: 11px 14px; cursor: pointer; border: 1px solid var(--line); background: #fff; color: var(--ink); }
button.primary { background: var(--brand); border-color: var(--brand); color: #fff; font-weight: 600; }
button.link { border: none; color: var(--muted); padding: 6px; }
button:focus-visible { outline: 3px solid rgba(36, 84, 230, .35); outline-offset: 2px; }
.state { border-radius: 10px; padding: 12px 14px; margin: 0 0 16px; background: #f2f4f7; }
.state.bad { background: #fef3f2; color: var(--bad); }
.state.ok { background: #ecfdf3; color: var(--ok); }
.hint { margin: 18px 0 0; font-size: 12px; color: var(--muted); }
a { color: var(--brand); }
`;

function page(title: string, inner: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><span class="brand">UCanPay</span><span class="badge">Sandbox</span></header>
${inner}
</main>
</body>
</html>
`;
}

const BUTTONS = `<form method="post" action="">
<button type="submit" name="action" value="authorize" class="primary">Authorize</button>
<button type="submit" name="action" value="decline">Decline</button>
<button type="submit" name="action" value="cancel" class="link">Cancel</button>
</form>
<p class="hint">Sandbox checkout: amounts whose minor units end in 02 are declined, 51 have insufficient funds.</p>`;

function humanTime(ms: number): string {
  return iso(ms)
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}

const ORDER_STATE_TEXT: Record<string, { text: string; tone: string }> = {
  PAID: { text: 'This order has been paid.', tone: 'ok' },
  PARTIALLY_REFUNDED: { text: 'This order has been paid (partially refunded).', tone: 'ok' },
  REFUNDED: { text: 'This order has been paid and refunded.', tone: 'ok' },
  FAILED: { text: 'This payment failed.', tone: 'bad' },
  CANCELLED: { text: 'This payment was cancelled.', tone: 'bad' },
  EXPIRED: { text: 'This payment has expired.', tone: 'bad' },
};

export function renderOrderPage(o: OrderRecord, merchantName: string): string {
  const amount = displayAmount(o.amount, o.currency);
  const state = ORDER_STATE_TEXT[o.status];
  const body = state
    ? `<p class="state ${state.tone}" data-testid="state">${escapeHtml(state.text)}${o.failure_message ? ` ${escapeHtml(o.failure_message)}` : ''}</p>
<p><a href="${escapeHtml(o.return_url)}">Return to ${escapeHtml(merchantName)}</a></p>`
    : BUTTONS;
  return page(
    `Pay ${amount} to ${merchantName}`,
    `<p class="merchant">Pay <strong data-testid="merchant">${escapeHtml(merchantName)}</strong></p>
<p class="amount" data-testid="amount">${escapeHtml(amount)}</p>
<p class="desc" data-testid="description">${escapeHtml(o.description)}</p>
<dl>
<dt>Order</dt><dd>${escapeHtml(o.out_trade_no)}</dd>
<dt>Status</dt><dd data-testid="status">${escapeHtml(o.status)}</dd>
<dt>${o.status === 'PENDING' ? 'Expires' : 'Expiry'}</dt><dd>${escapeHtml(humanTime(o.expires_at))}</dd>
</dl>
${body}`,
  );
}

const SUB_STATE_TEXT: Record<string, { text: string; tone: string }> = {
  TRIALING: { text: 'This subscription is authorized (trial).', tone: 'ok' },
  ACTIVE: { text: 'This subscription is authorized and active.', tone: 'ok' },
  PAST_DUE: { text: 'This subscription is authorized; a payment is past due.', tone: 'bad' },
  UNPAID: { text: 'This subscription is authorized but unpaid.', tone: 'bad' },
  CANCELLED: { text: 'This subscription has been cancelled.', tone: 'bad' },
};

export function renderSubscriptionPage(s: SubscriptionRecord, merchantName: string): string {
  const amount = displayAmount(s.amount, s.currency);
  const every = describeInterval(s.interval, s.interval_count);
  const state = SUB_STATE_TEXT[s.status];
  const first = nextBillingAt(s);
  const rows = [
    `<dt>Subscription</dt><dd>${escapeHtml(s.out_subscription_no)}</dd>`,
    s.customer.email ? `<dt>Customer</dt><dd>${escapeHtml(s.customer.email)}</dd>` : '',
    s.trial_days > 0 ? `<dt>Free trial</dt><dd>${s.trial_days} day${s.trial_days === 1 ? '' : 's'}</dd>` : '',
    `<dt>Starts</dt><dd>${escapeHtml(s.start_date)}</dd>`,
    first !== null && s.status === 'PENDING_AUTHORIZATION'
      ? `<dt>First charge</dt><dd>${escapeHtml(s.trial_end === null ? 'on authorization' : humanTime(first))}</dd>`
      : '',
    `<dt>Status</dt><dd data-testid="status">${escapeHtml(s.status)}</dd>`,
  ]
    .filter(Boolean)
    .join('\n');
  const body = state
    ? `<p class="state ${state.tone}" data-testid="state">${escapeHtml(state.text)}</p>${
        s.return_url
          ? `
<p><a href="${escapeHtml(s.return_url)}">Return to ${escapeHtml(merchantName)}</a></p>`
          : ''
      }`
    : BUTTONS;
  return page(
    `Subscribe: ${amount} every ${every}`,
    `<p class="merchant">Recurring payment mandate for <strong data-testid="merchant">${escapeHtml(merchantName)}</strong></p>
<p class="amount"><span data-testid="amount">${escapeHtml(amount)}</span> <span class="per" data-testid="interval">every ${escapeHtml(every)}</span></p>
<p class="desc">You authorize ${escapeHtml(merchantName)} to charge ${escapeHtml(amount)} every ${escapeHtml(every)} until you cancel.</p>
<dl>
${rows}
</dl>
${body}`,
  );
}

/** A plain result or error page (unknown id, closed order, bad action, no return_url). */
export function renderMessagePage(
  title: string,
  message: string,
  opts: { tone?: 'ok' | 'bad'; code?: string; link?: { href: string; text: string } } = {},
): string {
  const code = opts.code ? ` <span data-testid="code">(${escapeHtml(opts.code)})</span>` : '';
  const link = opts.link ? `\n<p><a href="${escapeHtml(opts.link.href)}">${escapeHtml(opts.link.text)}</a></p>` : '';
  return page(
    title,
    `<h1 style="font-size:20px;margin:0 0 12px">${escapeHtml(title)}</h1>
<p class="state ${opts.tone ?? 'bad'}" data-testid="state">${escapeHtml(message)}${code}</p>${link}`,
  );
}
