/**
 * Long runs of the interleaving property:
 *
 *   npm run test:interleavings -- --runs 200 --seed 42
 *   npm run test:interleavings -- --seed 42 --path "17:3:0" --runs 1     # replay a counterexample
 *   npm run test:interleavings -- --runs 200 --keep-going                 # every distinct violation, no shrinking
 *   npm run test:interleavings -- --program '[{"t":"reconcile","fault":"none"}, …]'   # play one program, print all
 *
 * Without --keep-going it stops at the first failing program and shrinks it
 * (at most --shrink-seconds, default 300). With --keep-going every program is
 * played and each distinct kind of violation is printed once with the seed and
 * path that replay it.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { checkInterleavings, formatReport, runProgram } from './property';
import { describeProgram, programArb, type Step } from './program';

interface Args {
  runs: number;
  seed: number;
  path?: string;
  keepGoing: boolean;
  shrinkSeconds: number;
  /** A program as JSON (a printed counterexample): play it once and print what happened. */
  program?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 100, seed: Date.now() % 2 ** 31, keepGoing: false, shrinkSeconds: 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') args.runs = Number(value());
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--path') args.path = value();
    else if (a === '--keep-going') args.keepGoing = true;
    else if (a === '--shrink-seconds') args.shrinkSeconds = Number(value());
    else if (a === '--program') args.program = value();
    else throw new Error(`unknown argument ${a} (use --runs N --seed S [--path P] [--keep-going] [--shrink-seconds N])`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(args.seed)) throw new Error('--seed must be an integer');
  return args;
}

/** A violation without its ids: the kind of failure, to print each kind once. */
function kindOf(violation: string): string {
  return violation
    .replace(/\b(pay|ref|ord|rfd|txn|evt)_[0-9A-Za-z_]+/g, '<$1>')
    .replace(/k\d+-\d+-p\d(-r\d)?/g, '<key>')
    .replace(/\(input [^)]*\)/g, '(input …)')
    .replace(/different inputs \([^)]*\)/g, 'different inputs (…)')
    .replace(/at "[^"]*"/g, 'at "…"')
    .replace(/\d{3,}/g, 'N');
}

async function keepGoing(args: Args): Promise<void> {
  const started = performance.now();
  // The same programs fast-check would generate for this seed: run i replays with --seed S --path i.
  const programs = fc.sample(programArb, { numRuns: args.runs, seed: args.seed }) as Step[][];
  const kinds = new Map<string, { count: number; first: { index: number; steps: Step[]; violation: string } }>();
  let failedPrograms = 0;
  let harnessErrors = 0;
  for (const [index, steps] of programs.entries()) {
    let result: Awaited<ReturnType<typeof runProgram>>;
    try {
      result = await runProgram(steps);
    } catch (error) {
      // Not a finding about the gateway: say so and go on.
      harnessErrors++;
      console.log(`\n[run ${index}] harness error: ${error instanceof Error ? error.message : String(error)}\n  --program '${JSON.stringify(steps)}'`);
      continue;
    }
    if (result.violations.length) failedPrograms++;
    for (const v of result.violations) {
      const kind = kindOf(v);
      const seen = kinds.get(kind);
      if (seen) seen.count++;
      else {
        kinds.set(kind, { count: 1, first: { index, steps, violation: v } });
        console.log(
          `\n[run ${index}] new violation: ${v}\n  replay: --seed ${args.seed} --path ${index} --runs 1\n${describeProgram(steps)}\n  --program '${JSON.stringify(steps)}'`,
        );
      }
    }
    if ((index + 1) % 10 === 0) console.log(`… ${index + 1}/${programs.length} programs, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `\ninterleavings (keep-going): ${programs.length} programs in ${secs.toFixed(1)} s (${(secs / programs.length).toFixed(2)} s each), seed ${args.seed}; ${failedPrograms} program(s) violated an invariant, ${kinds.size} distinct violation(s), ${harnessErrors} harness error(s)`,
  );
  for (const [kind, { count, first }] of kinds) console.log(`  ${count}× ${kind}\n     first: run ${first.index} (--seed ${args.seed} --path ${first.index})`);
  process.exitCode = kinds.size ? 1 : 0;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.keepGoing) return keepGoing(args);
  if (args.program) {
    const steps = JSON.parse(args.program) as Step[];
    const result = await runProgram(steps);
    console.log(describeProgram(steps));
    console.log(JSON.stringify({ ...result, ms: Math.round(result.ms) }, null, 2));
    process.exitCode = result.violations.length ? 1 : 0;
    return;
  }
  let n = 0;
  const report = await checkInterleavings({
    runs: args.runs,
    seed: args.seed,
    path: args.path,
    shrinkBudgetMs: args.shrinkSeconds * 1000,
    onProgram: (_steps, result) => {
      n++;
      if (n % 10 === 0) console.log(`… ${n} programs played (last ${(result.ms / 1000).toFixed(1)} s)`);
    },
  });
  console.log(formatReport(report));
  process.exitCode = report.failed ? 1 : 0;
}

main()
  .catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  })
  .finally(() => setTimeout(() => process.exit(), 200).unref());
