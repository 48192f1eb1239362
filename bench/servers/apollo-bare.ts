/**
 * (b) The fastest Apollo set-up measured here: Apollo Server 5 with a
 * type-graphql schema whose one mutation does nothing, on plain node:http
 * (bench/lib/bare-apollo-http.ts): no auth, no context, no plugins.
 *
 * (f) The same server's `status(id)` query: one primary-key SELECT of a
 * payments-shaped row from a durable on-disk SQLite file (WAL) through the
 * `sqlite3` package, with a statement prepared once and reused — the
 * cheapest way to read a row with the driver the gateway uses, and nothing
 * else. Any `payment(id)` that reads SQLite per request costs at least this,
 * so (f)/(b) is a ceiling for (c)/(b).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import sqlite3 from 'sqlite3';
import { Arg, buildSchema, ID, Mutation, Query, Resolver } from 'type-graphql';
import { bareApolloServer } from '../lib/bare-apollo-http';
import { failed, serve } from './ipc';

import { FLOOR_PAYMENT_ID } from '../lib/floor';

let select: sqlite3.Statement | undefined;

@Resolver()
class NoopResolver {
  @Query(() => Boolean)
  ok(): boolean {
    return true;
  }

  @Query(() => String, { nullable: true, description: "One primary-key SELECT; the row's status." })
  status(@Arg('id', () => ID) id: string): Promise<string | null> {
    return new Promise((resolve, reject) =>
      select!.all([id], (err: Error | null, rows: Array<{ status: string }>) => (err ? reject(err) : resolve(rows[0]?.status ?? null))),
    );
  }

  @Mutation(() => Boolean, { description: 'Does nothing.' })
  noop(): boolean {
    return true;
  }
}

/** A payments-shaped table (the gateway's columns) with one row, durable like the gateway's (WAL, synchronous=FULL). */
async function openFloorDatabase(): Promise<{ db: sqlite3.Database; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ucanpay-bench-floor-'));
  const db = new sqlite3.Database(path.join(dir, 'floor.sqlite'));
  const exec = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve())));
  await exec(`PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
    CREATE TABLE payments (id varchar PRIMARY KEY NOT NULL, merchant_id varchar NOT NULL, merchant_reference varchar NOT NULL,
      status varchar NOT NULL, amount integer NOT NULL, currency varchar(3) NOT NULL, description varchar NOT NULL,
      return_url varchar NOT NULL, metadata text NOT NULL, expires_in_seconds integer NOT NULL, client_secret varchar,
      provider_order_id varchar, checkout_url varchar, transaction_id varchar, refunded_amount integer NOT NULL,
      failure_code varchar, failure_message varchar, version integer NOT NULL, created_at bigint NOT NULL,
      updated_at bigint NOT NULL, paid_at bigint, expires_at bigint, synced_at bigint);
    INSERT INTO payments VALUES ('${FLOOR_PAYMENT_ID}', 'mer_floor', 'order-1', 'PENDING', 1999, 'USD', 'Bench T-shirt',
      'https://shop.example/return', '{}', 1800, 'secret', 'ord_1', 'https://pay.example/ord_1', NULL, 0, NULL, NULL, 1,
      1764000000000, 1764000000000, NULL, 1764001800000, 1764000000000);`);
  select = await new Promise<sqlite3.Statement>((resolve, reject) => {
    const stmt = db.prepare('SELECT * FROM payments WHERE id = ?', (err) => (err ? reject(err) : resolve(stmt)));
  });
  return { db, dir };
}

async function main() {
  const floor = await openFloorDatabase();
  const schema = await buildSchema({ resolvers: [NoopResolver], validate: false });
  const apollo = new ApolloServer({ schema, introspection: false, plugins: [ApolloServerPluginLandingPageDisabled()] });
  await apollo.start();
  const server = bareApolloServer(apollo, async () => ({}));
  const ipc = serve({}, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await apollo.stop();
    await new Promise<void>((resolve) => select!.finalize(() => floor.db.close(() => resolve())));
    fs.rmSync(floor.dir, { recursive: true, force: true });
  });
  server.on('error', failed);
  server.listen(0, '127.0.0.1', () => ipc.ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` }));
}

main().catch(failed);
