import { BlockList, isIP } from 'node:net';
import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { invalidInput } from '../domain/errors';
import { checkUrl } from '../domain/validation';

/**
 * What a merchant's webhook URL may reach (no SSRF). A URL is checked when
 * the endpoint is saved and again on every connection the delivery opens:
 * the socket's DNS lookup goes through {@link guardedLookup}, which resolves
 * once, refuses if any address is forbidden, and hands the socket the very
 * address it checked (no second lookup an attacker's DNS could answer
 * differently).
 */
export interface OutboundPolicy {
  /** Production: only https URLs (plain http only to a literal loopback address, and only when loopback is allowed). */
  httpsOnly: boolean;
  /** Loopback (127.0.0.0/8, ::1, `localhost`) allowed: local receivers in development. */
  allowLoopback: boolean;
}

/** Resolves a host name to every address it has (injectable: tests play DNS that changes). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'cgnat' | 'unspecified' | 'multicast' | 'reserved';

function blockList(v4: string[], v6: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net, Number(bits), 'ipv4');
  }
  for (const cidr of v6) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net, Number(bits), 'ipv6');
  }
  return list;
}

/** Checked in this order; the first list holding the address names its kind. Anything in none is public. */
const RANGES: Array<[Exclude<AddressKind, 'public'>, BlockList]> = [
  // Cloud instance metadata (AWS/GCP/Azure 169.254.169.254, AWS IPv6 fd00:ec2::254).
  ['metadata', blockList(['169.254.169.254/32', '169.254.170.2/32'], ['fd00:ec2::254/128'])],
  ['unspecified', blockList(['0.0.0.0/8'], ['::/128'])],
  ['loopback', blockList(['127.0.0.0/8'], ['::1/128'])],
  ['private', blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ['fc00::/7'])],
  ['cgnat', blockList(['100.64.0.0/10'], [])],
  ['link-local', blockList(['169.254.0.0/16'], ['fe80::/10'])],
  ['multicast', blockList(['224.0.0.0/4'], ['ff00::/8'])],
  [
    'reserved',
    blockList(
      // IETF protocol assignments, documentation nets, 6to4 relay, benchmarking, class E and broadcast.
      ['192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4'],
      // Discard-only, documentation, Teredo/ORCHID/benchmarking (2001::/23), deprecated site-local.
      ['100::/64', '2001::/23', '2001:db8::/32', 'fec0::/10'],
    ),
  ],
];

/** IPv6 forms that embed an IPv4 address: the IPv4 address decides (::ffff:127.0.0.1 is loopback). */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::|::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const groups = expandIpv6(lower);
  if (!groups) return null;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  // ::ffff:a.b.c.d (mapped), 64:ff9b::a.b.c.d (NAT64), ::a.b.c.d (compatible).
  if (groups.slice(0, 5).every((g) => g === 0) && (groups[5] === 0xffff || groups[5] === 0) && (groups[6] || groups[7])) return v4(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4(groups[6], groups[7]);
  // 2002:AABB:CCDD::/48 (6to4).
  if (groups[0] === 0x2002) return v4(groups[1], groups[2]);
  return null;
}

function expandIpv6(address: string): number[] | null {
  if (address.includes('.')) return null;
  const [head, tail] = address.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const a = part(head);
  const b = part(tail);
  const groups = address.includes('::') ? [...a, ...new Array(8 - a.length - b.length).fill(0), ...b] : a;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** Which kind of address this is (an IP literal, v4 or v6, IPv6 zone stripped). */
export function classifyAddress(address: string): AddressKind {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return 'reserved';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, list] of RANGES) if (list.check(bare, type)) return kind;
  const v4 = family === 6 ? embeddedIpv4(bare) : null;
  return v4 ? classifyAddress(v4) : 'public';
}

/** Null when the policy lets a connection reach this address, else why not. */
export function addressProblem(address: string, policy: OutboundPolicy): string | null {
  const kind = classifyAddress(address);
  if (kind === 'public' || (kind === 'loopback' && policy.allowLoopback)) return null;
  return `${address} is a ${kind} address; webhooks are only sent to public addresses`;
}

/**
 * The URL as saved: absolute, http(s) (https only in production), no
 * credentials, and a host whose every address is allowed now. Throws
 * BAD_USER_INPUT naming `field`.
 */
export async function checkEndpointUrl(field: string, value: unknown, policy: OutboundPolicy, resolve: Resolver = systemResolver): Promise<string> {
  const text = checkUrl(field, value);
  const url = new URL(text);
  const scheme = schemeProblem(url, policy);
  if (scheme) throw invalidInput(field, scheme);
  if (url.hash) throw invalidInput(field, 'must not contain a #fragment');
  const problem = await hostProblem(url.hostname, policy, resolve);
  if (problem) throw invalidInput(field, problem);
  return text;
}

async function hostProblem(hostname: string, policy: OutboundPolicy, resolve: Resolver): Promise<string | null> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return addressProblem(host, policy);
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return `host "${host}" does not resolve`;
  }
  if (!addresses.length) return `host "${host}" does not resolve`;
  for (const { address } of addresses) {
    const problem = addressProblem(address, policy);
    if (problem) return `host "${host}" resolves to ${problem}`;
  }
  return null;
}

/** The refusal a connection meets (the delivery attempt records its message). */
export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
}

/**
 * A `lookup` for node:net sockets: resolves once with `resolve`, refuses the
 * connection when any address is forbidden, and returns only checked
 * addresses (both the single-address and the `all: true` form, which Node
 * uses for autoSelectFamily). An IP literal never reaches a lookup: callers
 * check it with {@link addressProblem} first.
 */
export function guardedLookup(policy: OutboundPolicy, resolve: Resolver = systemResolver) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname).then(
      (found) => {
        const wanted = options.family === 4 || options.family === 6 ? found.filter((a) => a.family === options.family) : found;
        if (!wanted.length) return callback(Object.assign(new Error(`host "${hostname}" does not resolve`), { code: 'ENOTFOUND' }), '', 0);
        for (const { address } of wanted) {
          const problem = addressProblem(address, policy);
          if (problem) return callback(new ForbiddenAddressError(`host "${hostname}" resolves to ${problem}`), '', 0);
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/**
 * Null when the policy allows the URL's scheme. With `httpsOnly`, plain http
 * is allowed only to a literal loopback address when loopback is allowed (a
 * local TLS-terminating sidecar, the benchmark's receiver): nothing else on
 * the way could read or change it.
 */
export function schemeProblem(url: URL, policy: OutboundPolicy): string | null {
  if (!policy.httpsOnly || url.protocol === 'https:') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (policy.allowLoopback && isIP(host) && classifyAddress(host) === 'loopback') return null;
  return 'must be an https URL (production)';
}

/** Checks the URL's host before connecting when it is an IP literal (sockets skip the lookup for those). */
export function literalHostProblem(url: URL, policy: OutboundPolicy): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? addressProblem(host, policy) : null;
}
