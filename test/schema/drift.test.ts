import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';
import { buildGatewaySchema, SCHEMA_FILE } from '../../src/api/schema';

const ROOT = path.resolve(__dirname, '../..');

describe('schema and generated client are in sync with the code', () => {
  it('schema/schema.graphql is what the code emits (run `npm run codegen`)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-'));
    const file = path.join(dir, 'schema.graphql');
    // Same options as `npm run schema`, emitted to a temp file.
    await buildGatewaySchema({ emit: true, emitTo: file });
    expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(SCHEMA_FILE, 'utf8'));
  });

  it('src/client/generated is what codegen makes from it (run `npm run codegen`)', async () => {
    const { config } = await loadCodegenConfig({ configFilePath: path.join(ROOT, 'codegen.yml') });
    const outputs = await generate({ ...config, cwd: ROOT }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs as Array<{ filename: string; content: string }>) {
      const onDisk = path.resolve(ROOT, output.filename);
      expect(fs.existsSync(onDisk), `${output.filename} is missing`).toBe(true);
      expect(fs.readFileSync(onDisk, 'utf8'), `${output.filename} is stale`).toBe(output.content);
    }
  }, 60_000);
});
