import autocannon from 'autocannon';
import { cpuSeconds } from './proc-stat';
import { percentile, Samples } from './stats';

/** One measured HTTP load round. Latencies are recorded per response in ms with sub-ms resolution. */
export interface RoundResult {
  /** Successful (2xx and accepted by `check`) responses per second. */
  rps: number;
  p50: number;
  p99: number;
  /** Responses that were not 2xx, failed `check`, errored or timed out. */
  bad: number;
  /** The first few bad response bodies (to say what went wrong). */
  badSamples: string[];
  total: number;
  durationS: number;
  /**
   * CPU time the server process used per successful response (ms, all its
   * threads, from /proc): unlike req/s it does not drop when the load
   * generator or other work takes the CPU away.
   */
  cpuMsPerReq: number;
  /** Share of one core the server used during the round. */
  serverCpuShare: number;
}

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fixed body. */
  body?: string;
  /** Or a fresh body (and extra headers) per request. */
  next?: () => { body: string; headers?: Record<string, string> };
  /** Decides from the response body whether a 2xx response is a success (e.g. no GraphQL errors); called once per 2xx response. */
  check?: (body: string) => boolean;
  connections?: number;
  durationS: number;
  /** The server process, to read its CPU time. */
  serverPid?: number;
}

/**
 * Runs autocannon (closed loop, `connections` connections, no pipelining) for
 * `durationS` seconds in this process (pinned to the load core by the runner).
 */
export async function runLoad(spec: LoadSpec): Promise<RoundResult> {
  const latencies = new Samples();
  let ok = 0;
  let non2xx = 0;
  let rejected = 0;
  const badSamples: string[] = [];
  const fresh = spec.next;
  const check = spec.check;
  const cpuBefore = spec.serverPid ? cpuSeconds(spec.serverPid) : NaN;
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections ?? 10,
    duration: spec.durationS,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: spec.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        ...(fresh
          ? {
              setupRequest: (req) => {
                const n = fresh();
                return { ...req, body: n.body, headers: n.headers ? { ...req.headers, ...n.headers } : req.headers };
              },
            }
          : { body: spec.body }),
        ...(check
          ? {
              onResponse: (status: number, body: string) => {
                // `check` runs once per response: it may count (webhooks count applied events).
                const ok2xx = status >= 200 && status < 300;
                const passed = ok2xx && check(body);
                if (ok2xx && !passed) rejected++;
                if (!passed && badSamples.length < 3) badSamples.push(`${status} ${body.slice(0, 300)}`);
              },
            }
          : {}),
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status >= 200 && status < 300) {
      ok++;
      latencies.push(responseTime);
    } else non2xx++;
  });
  const result = await instance;
  const cpuUsed = spec.serverPid ? cpuSeconds(spec.serverPid) - cpuBefore : NaN;
  const durationS = result.duration;
  const good = Math.max(0, ok - rejected);
  return {
    cpuMsPerReq: good ? (1000 * cpuUsed) / good : NaN,
    serverCpuShare: cpuUsed / durationS,
    rps: good / durationS,
    p50: percentile(latencies.values(), 50),
    p99: percentile(latencies.values(), 99),
    bad: non2xx + rejected + result.errors + result.timeouts,
    badSamples: result.errors || result.timeouts ? [...badSamples, `${result.errors} errors, ${result.timeouts} timeouts`] : badSamples,
    total: ok + non2xx,
    durationS,
  };
}
