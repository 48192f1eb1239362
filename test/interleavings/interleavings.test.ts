import { describe, expect, it } from 'vitest';
import { KNOWN_PROGRAMS } from './known-programs';
import { describeProgram } from './program';
import { checkInterleavings, formatReport, InvariantViolation, runProgram } from './property';

/**
 * Issue 12's randomized interleaving test, at CI size: RUNS random programs
 * (3–12 steps: create, same-key retries, checkout, refunds, webhook and HTTP
 * faults, clock, reconciliation, refresh, crash + restart, some concurrent)
 * from a fixed seed, each against a fresh real gateway and sandbox, each
 * checked against UCanPay's inspection endpoints after settling. Plus the
 * issue's reproductions as fixed programs.
 * Long runs and replays: `npm run test:interleavings -- --runs N --seed S`
 * (docs/testing.md).
 */
const RUNS = Number(process.env.INTERLEAVINGS_RUNS ?? 30);
const SEED = Number(process.env.INTERLEAVINGS_SEED ?? 20261201);

describe('known interleavings (issue 12 reproductions as programs)', () => {
  for (const { name, steps } of KNOWN_PROGRAMS) {
    it(`${name}: the invariants hold\n${describeProgram(steps)}`, async () => {
      const result = await runProgram(steps);
      expect(result.violations, new InvariantViolation(steps, result).message).toEqual([]);
    });
  }
});

describe('randomized interleavings against the real gateway and sandbox', () => {
  it(`${RUNS} programs from seed ${SEED}: the invariants hold after each`, async () => {
    const report = await checkInterleavings({ runs: RUNS, seed: SEED, shrinkBudgetMs: 60_000 });
    console.log(formatReport(report));
    expect(report.failed, formatReport(report)).toBe(false);
  }, 400_000);
});
