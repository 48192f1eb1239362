import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Relative imports of every .ts file under `dir` (recursively), as [file, specifier] pairs. */
function importsUnder(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...importsUnder(full));
    else if (entry.name.endsWith('.ts')) {
      for (const m of fs.readFileSync(full, 'utf8').matchAll(/(?:from|import\()\s*['"](\.[^'"]*)['"]/g)) out.push([full, m[1]]);
    }
  }
  return out;
}

describe('layers', () => {
  it('nothing outside src/ucanpay imports past its index.ts (the client is used through its public face)', () => {
    const ucanpay = path.resolve('src/ucanpay');
    const offenders = [...importsUnder(path.resolve('src')), ...importsUnder(path.resolve('bench')), ...importsUnder(path.resolve('scripts'))]
      .filter(([file]) => !file.startsWith(ucanpay + path.sep))
      .filter(([file, spec]) => path.resolve(path.dirname(file), spec).startsWith(ucanpay + path.sep))
      .map(([file, spec]) => `${path.relative(process.cwd(), file)} imports ${spec}`);
    expect(offenders).toEqual([]);
  });

  it('the domain is pure: no file of src/domain imports the provider (src/ucanpay) or any other folder', () => {
    const domain = path.resolve('src/domain');
    const offenders = importsUnder(domain)
      .filter(([file, spec]) => !path.resolve(path.dirname(file), spec).startsWith(domain + path.sep))
      .map(([file, spec]) => `${path.relative(process.cwd(), file)} imports ${spec}`);
    expect(offenders).toEqual([]);
  });

  it('the UCanPay client knows nothing of the gateway: no file of src/ucanpay imports outside it', () => {
    const ucanpay = path.resolve('src/ucanpay');
    const offenders = importsUnder(ucanpay)
      .filter(([file, spec]) => !path.resolve(path.dirname(file), spec).startsWith(ucanpay + path.sep))
      .map(([file, spec]) => `${path.relative(process.cwd(), file)} imports ${spec}`);
    expect(offenders).toEqual([]);
  });

  it('the api layer imports nothing of db/ (api never reaches the database; a busy database is named by domain/driver-errors.ts)', () => {
    const api = path.resolve('src/api');
    const db = path.resolve('src/db');
    const offenders = importsUnder(api)
      .filter(([file, spec]) => path.resolve(path.dirname(file), spec).startsWith(db + path.sep))
      .map(([file, spec]) => `${path.relative(process.cwd(), file)} imports ${spec}`);
    expect(offenders).toEqual([]);
  });

  it('no folder of src/ imports the composition root (app.ts, main.ts)', () => {
    const roots = ['src/app', 'src/main'].map((p) => path.resolve(p));
    const offenders = importsUnder(path.resolve('src'))
      .filter(([file]) => path.dirname(file) !== path.resolve('src'))
      .filter(([file, spec]) => roots.includes(path.resolve(path.dirname(file), spec).replace(/\.ts$/, '')))
      .map(([file, spec]) => `${path.relative(process.cwd(), file)} imports ${spec}`);
    expect(offenders).toEqual([]);
  });
  it('services read a row one way: db.findOneBy / findOneByOrFail (with { tx, forUpdate } inside a transaction), never manager.findOne', () => {
    const services = path.resolve('src/services');
    const offenders = fs
      .readdirSync(services)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) =>
        fs
          .readFileSync(path.join(services, name), 'utf8')
          .split('\n')
          .map((line, i) => [name, i + 1, line] as const)
          .filter(([, , line]) => /manager\.findOne(OrFail)?\(/.test(line)),
      )
      .map(([name, line]) => `src/services/${name}:${line}`);
    expect(offenders).toEqual([]);
  });
});
