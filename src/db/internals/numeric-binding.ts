import type { DataSource, ObjectLiteral } from 'typeorm';

/** A number TypeORM must pass as a bound parameter (see bindNumericParameters). */
class BoundNumber {
  constructor(readonly value: number) {}
}

/**
 * TypeORM's SQLite driver writes numeric parameters into the SQL text
 * (`… VALUES (?, ?, 1999, …)`, `SET "version" = 2`), so an INSERT or UPDATE
 * almost never has the same text twice and its statement cannot be reused
 * (sqlite-driver.ts): every one is prepared, run and finalized, three trips
 * through the thread pool plus SQLite's parser. Here they are bound like
 * every other value, so the text repeats and stays prepared. Values are the
 * same: node-sqlite3 binds an integer beyond 32 bits as a REAL, which
 * SQLite stores as an INTEGER in the INTEGER-affinity columns (bigint, integer)
 * the gateway uses for numbers, and compares numerically either way.
 */
export function bindNumericParameters(dataSource: DataSource): void {
  const driver = dataSource.driver as DataSource['driver'] & {
    escapeQueryWithParameters(sql: string, parameters: ObjectLiteral, nativeParameters: ObjectLiteral): [string, unknown[]];
  };
  const original = driver.escapeQueryWithParameters.bind(driver);
  driver.escapeQueryWithParameters = (sql, parameters, nativeParameters) => {
    if (!parameters) return original(sql, parameters, nativeParameters);
    let boxed: ObjectLiteral | undefined;
    for (const key of Object.keys(parameters)) {
      if (typeof parameters[key] !== 'number') continue;
      boxed ??= { ...parameters };
      boxed[key] = new BoundNumber(parameters[key] as number);
    }
    if (!boxed) return original(sql, parameters, nativeParameters);
    const [text, values] = original(sql, boxed, nativeParameters);
    return [text, values.map((v) => (v instanceof BoundNumber ? v.value : v))];
  };
}
