import { describe, expect, it } from 'vitest';
import { addressProblem, checkEndpointUrl, classifyAddress, guardedLookup, type Resolver } from '../../src/services/outbound-url';

const production = { httpsOnly: true, allowLoopback: false };
const development = { httpsOnly: false, allowLoopback: true };

/** DNS that answers from a table. */
const dnsOf =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('outbound webhook addresses (no SSRF)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('production refuses every non-public kind; development allows only loopback besides public', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '100.64.0.1', '169.254.169.254', 'fd00:ec2::254', '0.0.0.0', 'fe80::1', 'fc00::1']) {
      expect(addressProblem(address, production)).toMatch(/webhooks are only sent to public addresses/);
    }
    expect(addressProblem('127.0.0.1', development)).toBeNull();
    expect(addressProblem('::1', development)).toBeNull();
    expect(addressProblem('10.0.0.1', development)).toMatch(/private/);
    expect(addressProblem('169.254.169.254', development)).toMatch(/metadata/);
    expect(addressProblem('93.184.216.34', production)).toBeNull();
  });

  it('a saved URL is checked: https in production, literal IPs, every address a host resolves to, localhost', async () => {
    const dns = dnsOf({ 'hooks.shop.example': ['93.184.216.34'], 'sneaky.example': ['93.184.216.34', '10.0.0.7'], localhost: ['127.0.0.1', '::1'] });
    await expect(checkEndpointUrl('input.url', 'https://hooks.shop.example/w', production, dns)).resolves.toBe('https://hooks.shop.example/w');
    await expect(checkEndpointUrl('input.url', 'http://hooks.shop.example/w', production, dns)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'input.url' },
      message: expect.stringMatching(/https/),
    });
    await expect(checkEndpointUrl('input.url', 'https://sneaky.example/w', production, dns)).rejects.toThrow(/resolves to 10\.0\.0\.7 is a private address/);
    await expect(checkEndpointUrl('input.url', 'https://localhost:8443/w', production, dns)).rejects.toThrow(/loopback/);
    await expect(checkEndpointUrl('input.url', 'http://localhost:8443/w', development, dns)).resolves.toBe('http://localhost:8443/w');
    await expect(checkEndpointUrl('input.url', 'https://[::1]/w', production, dns)).rejects.toThrow(/loopback/);
    await expect(checkEndpointUrl('input.url', 'https://169.254.169.254/latest/meta-data', production, dns)).rejects.toThrow(/metadata/);
    await expect(checkEndpointUrl('input.url', 'https://[fd00:ec2::254]/', production, dns)).rejects.toThrow(/metadata/);
    await expect(checkEndpointUrl('input.url', 'https://0.0.0.0/', production, dns)).rejects.toThrow(/unspecified/);
    await expect(checkEndpointUrl('input.url', 'https://100.64.1.1/', production, dns)).rejects.toThrow(/cgnat/);
    await expect(checkEndpointUrl('input.url', 'https://[fe80::1]/', production, dns)).rejects.toThrow(/link-local/);
    await expect(checkEndpointUrl('input.url', 'https://192.168.0.10/', development, dns)).rejects.toThrow(/private/);
    await expect(checkEndpointUrl('input.url', 'https://nowhere.example/', production, dns)).rejects.toThrow(/does not resolve/);
    // Production with loopback allowed (a local TLS sidecar): plain http to a literal loopback address only.
    const sidecar = { httpsOnly: true, allowLoopback: true };
    await expect(checkEndpointUrl('input.url', 'http://127.0.0.1:9000/w', sidecar, dns)).resolves.toBe('http://127.0.0.1:9000/w');
    await expect(checkEndpointUrl('input.url', 'http://localhost:9000/w', sidecar, dns)).rejects.toThrow(/https/);
    await expect(checkEndpointUrl('input.url', 'http://hooks.shop.example/w', sidecar, dns)).rejects.toThrow(/https/);
    await expect(checkEndpointUrl('input.url', 'ftp://hooks.shop.example/', development, dns)).rejects.toThrow(/http or https/);
    await expect(checkEndpointUrl('input.url', 'https://user:pw@hooks.shop.example/', production, dns)).rejects.toThrow(/credentials/);
  });

  it('the socket lookup checks what it resolves now and hands back only checked addresses', async () => {
    let answer = ['93.184.216.34'];
    const lookup = guardedLookup(production, async () => answer.map((address) => ({ address, family: 4 })));
    const call = (all: boolean) =>
      new Promise<{ error: Error | null; address: unknown }>((resolve) =>
        lookup('hooks.shop.example', { all }, (error, address) => resolve({ error, address })),
      );
    expect(await call(false)).toEqual({ error: null, address: '93.184.216.34' });
    expect(await call(true)).toEqual({ error: null, address: [{ address: '93.184.216.34', family: 4 }] });
    // DNS changed after the URL was saved (rebinding): the connection is refused.
    answer = ['169.254.169.254'];
    const refused = await call(true);
    expect(refused.error?.message).toMatch(/metadata/);
  });
});
