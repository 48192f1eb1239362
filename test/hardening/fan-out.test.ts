import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config';
import type { PaymentEntity } from '../../src/entities';
import { createInMemoryEventBus } from '../../src/events/pubsub';
import { createRedisEventBus } from '../../src/events/redis-event-bus';
import { checkout, startGateway, TEST_API_KEY, type TestGateway } from '../helpers/gateway';
import { createPayment } from './helpers';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('one change fans out in batches, yielding to other work between them', () => {
  it('1,000 listeners at batch 100: 100 are called at once, the event loop runs before the rest, every listener hears the events in order', async () => {
    const bus = createInMemoryEventBus({ fanoutBatch: 100 });
    const heard: Array<Array<number>> = Array.from({ length: 1000 }, () => []);
    for (let i = 0; i < 1000; i++) await bus.listen('paymentUpdated', 'pay_1', (p) => heard[i].push(p.version));
    const listenersCalled = () => heard.filter((h) => h.length > 0).length;

    bus.publish('paymentUpdated', 'pay_1', { version: 1 } as PaymentEntity);
    bus.publish('paymentUpdated', 'pay_1', { version: 2 } as PaymentEntity);
    expect(listenersCalled()).toBe(100);
    let otherWorkRanAt = -1;
    setImmediate(() => (otherWorkRanAt = heard.reduce((n, h) => n + h.length, 0)));
    for (let i = 0; i < 40 && heard.some((h) => h.length < 2); i++) await nextTurn();
    expect(otherWorkRanAt).toBeGreaterThan(0);
    expect(otherWorkRanAt).toBeLessThan(2000);
    expect(heard.every((h) => h.join() === '1,2')).toBe(true);
    await bus.close();
  });

  it('over Redis the same: one message to 300 listeners at batch 100 lets other work run before the last of them', async () => {
    const bus = await createRedisEventBus({ url: 'redis://127.0.0.1:6379', channelPrefix: `fanout-test-${process.pid}-${Date.now()}:`, fanoutBatch: 100 });
    try {
      let called = 0;
      let otherWorkRanAt = -1;
      for (let i = 0; i < 300; i++) {
        await bus.listen('paymentUpdated', 'pay_r', () => {
          if (called++ === 0) setImmediate(() => (otherWorkRanAt = called));
        });
      }
      bus.publish('paymentUpdated', 'pay_r', { id: 'pay_r', version: 1 } as PaymentEntity);
      for (let i = 0; i < 200 && called < 300; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(called).toBe(300);
      expect(otherWorkRanAt).toBeGreaterThanOrEqual(100);
      expect(otherWorkRanAt).toBeLessThan(300);
    } finally {
      await bus.close();
    }
  });
});

describe('event-loop stall during the largest allowed fan-out (measured, reported, not asserted)', () => {
  let gw: TestGateway | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await gw?.stop();
    gw = undefined;
  });

  function subscribers(token: string, connections: number, perConnection: number, paymentId: string) {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, 'clients', 'subscribers.cjs'), gw!.app.wsUrl, token, String(connections), String(perConnection), paymentId],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += String(d)));
    const waitFor = (word: string, ms: number) =>
      new Promise<string>((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          const line = out.split('\n').find((l) => l.startsWith(word) || l.startsWith('ERROR'));
          if (line) {
            clearInterval(poll);
            return line.startsWith('ERROR') ? reject(new Error(line)) : resolve(line);
          }
          if (Date.now() - started > ms) {
            clearInterval(poll);
            reject(new Error(`subscribers: no ${word} within ${ms} ms (${out.slice(-300)})`));
          }
        }, 20);
      });
    return { waitFor };
  }

  for (const [label, batch] of [
    ['batched (EVENTS_FANOUT_BATCH default)', String(DEFAULT_LIMITS.fanoutBatch)],
    ['unbatched (EVENTS_FANOUT_BATCH=1000000, as before)', '1000000'],
  ] as const) {
    it(`${label}: ${DEFAULT_LIMITS.subscriptionsPerMerchant} API-key + ${DEFAULT_LIMITS.subscriptionsPerClientSecret} client-secret subscribers of one payment`, async () => {
      gw = await startGateway({ EVENTS_FANOUT_BATCH: batch });
      const { payment } = await createPayment(gw, TEST_API_KEY);
      const perConnection = DEFAULT_LIMITS.subscriptionsPerConnection;
      const merchantSide = subscribers(TEST_API_KEY, DEFAULT_LIMITS.subscriptionsPerMerchant / perConnection, perConnection, payment.id);
      const browserSide = subscribers(payment.clientSecret, 1, DEFAULT_LIMITS.subscriptionsPerClientSecret, payment.id);
      await Promise.all([merchantSide.waitFor('READY', 60_000), browserSide.waitFor('READY', 60_000)]);

      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      await checkout(payment.checkoutUrl, 'authorize');
      const [merchantLine] = await Promise.all([merchantSide.waitFor('PAID', 60_000), browserSide.waitFor('PAID', 60_000)]);
      delay.disable();
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - wall0;
      const ms = (ns: number) => (ns / 1e6).toFixed(1);
      console.info(
        `fan-out ${label}: ${DEFAULT_LIMITS.subscriptionsPerMerchant + DEFAULT_LIMITS.subscriptionsPerClientSecret} pushes of one change; ` +
          `event-loop delay p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms; ` +
          `first to last API-key push ${merchantLine.split(' ')[1]} ms; the gateway process used ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU in ${wall.toFixed(0)} ms ` +
          `(on a loaded machine the wall-clock delays include time the process was not scheduled)`,
      );
      expect(delay.count).toBeGreaterThan(0);
    }, 120_000);
  }
});
