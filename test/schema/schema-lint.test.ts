import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const CONFIG = JSON.parse(fs.readFileSync(path.join(ROOT, '.graphql-schema-linterrc'), 'utf8')) as { rules: string[] };

interface LintFinding {
  message: string;
  location: { line: number; column: number };
  rule: string;
}

/** graphql-schema-linter's own CLI on the committed schema (drift.test.ts keeps that equal to the code). */
async function lint(): Promise<LintFinding[]> {
  const cli = path.join(ROOT, 'node_modules/graphql-schema-linter/lib/cli.js');
  const run = await promisify(execFile)(process.execPath, [cli, '--format', 'json'], { cwd: ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
    // Exit code 1 means findings: they are on stdout as JSON.
    if (error.stdout) return { stdout: error.stdout };
    throw new Error(`graphql-schema-linter failed: ${error.stderr}`);
  });
  return (JSON.parse(run.stdout) as { errors: LintFinding[] }).errors;
}

describe('schema/schema.graphql passes graphql-schema-linter (rules in .graphql-schema-linterrc, listed in docs/schema.md)', () => {
  it('has zero findings', async () => {
    const findings = await lint();
    expect(findings.map((f) => `${f.location.line}:${f.location.column} ${f.rule}: ${f.message}`)).toEqual([]);
  }, 60_000);

  it('every rule in use is listed in docs/schema.md', () => {
    expect(CONFIG.rules.length).toBeGreaterThan(10);
    const doc = fs.readFileSync(path.join(ROOT, 'docs/schema.md'), 'utf8');
    for (const rule of CONFIG.rules) expect(doc, rule).toContain(`\`${rule}\``);
  });
});
