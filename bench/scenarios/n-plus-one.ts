import type { ServerChild } from '../lib/child';
import type { GatewayReady } from '../lib/gateway-env';

export const PAYMENTS_WITH_REFUNDS =
  'query List($first: Int) { payments(first: $first) { edges { node { id status refundedAmount refundableAmount refunds { id status amount } } } } }';

export interface NPlusOneCase {
  first: number;
  path: string;
  queries: number;
  statements: string[];
}

export interface NPlusOneResult {
  cases: NPlusOneCase[];
  target: { max: number; constant: boolean; pass: boolean };
}

type Data = { payments: { edges: Array<{ node: { refunds: unknown[] } }> } };

function checkData(data: Data | undefined, first: number, refundsEach: number): void {
  const edges = data?.payments?.edges ?? [];
  if (edges.length !== first || edges.some((e) => e.node.refunds.length !== refundsEach)) {
    throw new Error(`payments(first: ${first}) returned ${edges.length} payments / unexpected refunds`);
  }
}

/**
 * SQL statements for `payments(first: N) { … refunds { … } refundableAmount }`:
 * over HTTP the gateway's normal path (per-request DataLoader, API-key auth
 * included), and in-process through the same schema and services with the
 * per-request loaders or with loaders that never batch (what calling the
 * service once per payment costs). N = 10 and 50 shows whether it is constant.
 */
export async function runNPlusOne(child: ServerChild<GatewayReady>, refundsEach: number): Promise<NPlusOneResult> {
  const gw = child.ready;
  const cases: NPlusOneCase[] = [];
  for (const first of [10, 50]) {
    const body = JSON.stringify({ query: PAYMENTS_WITH_REFUNDS, variables: { first } });
    const post = () => fetch(gw.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.apiKey}` }, body });
    const warm = (await (await post()).json()) as { data?: Data; errors?: unknown };
    if (warm.errors) throw new Error(JSON.stringify(warm.errors));
    checkData(warm.data, first, refundsEach);
    await child.call('startSqlCount');
    const res = (await (await post()).json()) as { data?: Data };
    const statements = await child.call<string[]>('stopSqlCount');
    checkData(res.data, first, refundsEach);
    cases.push({ first, path: 'HTTP, DataLoader (normal path, incl. auth)', queries: statements.length, statements });
    for (const batched of [true, false]) {
      const run = await child.call<{ statements: string[]; errors: string[]; data: Data }>('runInProcess', {
        query: PAYMENTS_WITH_REFUNDS,
        variables: { first },
        batched,
      });
      if (run.errors.length) throw new Error(run.errors.join('; '));
      checkData(run.data, first, refundsEach);
      cases.push({
        first,
        path: batched ? 'in-process, DataLoader' : 'in-process, WITHOUT DataLoader',
        queries: run.statements.length,
        statements: run.statements,
      });
    }
  }
  const http = cases.filter((c) => c.path.startsWith('HTTP'));
  const constant = new Set(http.map((c) => c.queries)).size === 1;
  const max = Math.max(...http.map((c) => c.queries));
  return { cases, target: { max: 3, constant, pass: constant && max <= 3 } };
}
