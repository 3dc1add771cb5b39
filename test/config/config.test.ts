import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configWarnings,
  formatPath,
  loadConfig,
  parseConfig,
  parseListenAddress,
  targetRules,
} from '../../src/config/index.js';

function problems(value: unknown): readonly string[] {
  try {
    parseConfig(value);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig defaults', () => {
  it('fills every default from an empty object', () => {
    expect(parseConfig({})).toEqual({
      listen: { host: '127.0.0.1', port: 4433 },
      proxyName: 'masque',
      accessLog: true,
      shutdownGraceMs: 10_000,
      workers: 1,
      auth: { mode: 'none' },
      targets: { deny: [], allow: [], allowSpecial: false },
      dns: { mode: 'system', timeoutMs: 5000, tries: 2, prefer: 'ipv6', fallback: true },
      request: { strictAuthority: false, requireCapsuleProtocol: false },
      limits: {
        tunnelsPerConnection: 64,
        tunnelsTotal: 10_000,
        datagramQueue: 1024,
        tunnelIdleTimeoutMs: 120_000,
        connections: 10_000,
        connectionsPerSource: 256,
        halfOpenConnections: 1024,
        halfOpenPerSource: 64,
        initialsPerSecondPerSource: 100,
      },
      bind: {
        enabled: true,
        publicAddresses: [],
        egress: {},
        maxTunnels: 1000,
        maxContextsPerTunnel: 64,
        compressAfter: 16,
        maxUnackedAssigns: 8,
        wire: 'auto',
      },
      http2: { enabled: true, http1: true, h2: true },
      quicAware: {
        enabled: true,
        forwarding: true,
        profiles: ['draft-09', 'draft-08', 'draft-07'],
        transforms: ['scramble-dt', 'identity'],
        portSharing: true,
        minCidLength: 4,
        maxConnectionIds: 16,
        reregistrationIsFree: true,
      },
      logLevel: 'info',
    });
  });

  it('reads the bind section and reports bad addresses with their path', () => {
    const c = parseConfig({
      bind: {
        publicAddresses: ['192.0.2.1', '2001:db8::1'],
        egress: { ipv4: '0.0.0.0', ipv6: false },
        compressAfter: 0,
        wire: 'legacy',
      },
    });
    expect(c.bind).toMatchObject({
      publicAddresses: ['192.0.2.1', '2001:db8::1'],
      egress: { ipv4: '0.0.0.0', ipv6: false },
      compressAfter: 0,
      wire: 'legacy',
    });
    expect(() => parseConfig({ bind: { publicAddresses: ['proxy.example'] } })).toThrow(
      /bind\.publicAddresses\[0\]: must be an IP address/,
    );
    expect(() => parseConfig({ bind: { egress: { ipv4: '::1' } } })).toThrow(/IPv4/);
    expect(problems({ http2: { h2: false, http1: false } })).toEqual([
      'http2: h2 and http1 are both false: nothing to serve over TCP (set enabled: false instead)',
    ]);
    expect(() => parseConfig({ http2: { enabled: false, h2: false, http1: false } })).not.toThrow();
  });

  it('reads a full configuration', () => {
    const c = parseConfig({
      listen: '[::]:443',
      certificate: { cert: '/etc/masque/cert.pem', key: '/etc/masque/key.pem' },
      template: 'https://proxy.example/masque{?target_host,target_port}',
      proxyName: 'proxy.example',
      auth: { mode: 'basic', users: [{ user: 'a', password: 'b' }], realm: 'r' },
      targets: { allow: ['127.0.0.0/8:5353'], deny: ['[2001:db8::]/32'], allowSpecial: false },
      dns: { timeoutMs: 100, tries: 1, servers: ['127.0.0.1:53'], prefer: 'ipv4' },
      request: { strictAuthority: true, requireCapsuleProtocol: true },
      limits: {
        tunnelsPerConnection: 1,
        tunnelsTotal: 2,
        datagramQueue: 3,
        tunnelIdleTimeoutMs: 1000,
        connections: 4,
        connectionsPerSource: 5,
        halfOpenConnections: 6,
        halfOpenPerSource: 7,
      },
      metrics: { listen: 'localhost:9464' },
      logLevel: 'debug',
    });
    expect(c.listen).toEqual({ host: '::', port: 443 });
    // Servers given: the c-ares resolver that asks them, unless a mode says otherwise.
    expect(c.dns).toEqual({
      mode: 'dns',
      timeoutMs: 100,
      tries: 1,
      servers: ['127.0.0.1:53'],
      prefer: 'ipv4',
      fallback: true,
    });
    expect(c.metrics?.listen).toEqual({ host: 'localhost', port: 9464 });
    expect(targetRules(c).map((r) => `${r.action} ${r.cidr}`)).toEqual([
      'deny 2001:db8::/32',
      'allow 127.0.0.0/8',
    ]);
    expect(configWarnings(c)).toEqual([
      'limits.tunnelIdleTimeoutMs: below two minutes (RFC 9298 §3.1 SHOULD NOT)',
    ]);
  });
});

describe('parseConfig error messages (path: what is wrong)', () => {
  it.each([
    [[], '(root): Invalid input: expected object, received array'],
    [{ lisen: 'x' }, 'unknown field "lisen"'],
    [{ listen: 4433 }, 'listen: must be a string "host:port"'],
    [{ listen: '4433' }, 'listen: "4433" is not host:port (IPv6 as [addr]:port)'],
    [{ listen: '::1:443' }, 'listen: "::1:443" is not host:port (IPv6 as [addr]:port)'],
    [{ listen: '[::g]:443' }, 'listen: "::g" is not an IPv6 address'],
    [{ listen: 'a_b:443' }, 'listen: "a_b" is not an IP address or host name'],
    [{ listen: '1.2.3.4:70000' }, 'listen: port 70000 is not in 0..65535'],
    [{ certificate: { cert: 'c' } }, 'certificate.key: must be a string (private key PEM path)'],
    [
      { certificate: { cert: '', key: 'k' } },
      'certificate.cert: must not be empty (certificate chain PEM path)',
    ],
    [{ certificate: { cert: 'c', key: 'k', ca: 'x' } }, 'certificate: unknown field "ca"'],
    [
      { template: 'https://p.example/{target_host}' },
      'template: URI template "https://p.example/{target_host}": the variable "target_port" is missing (RFC 9298 §2 requires it)',
    ],
    [{ template: 7 }, 'template: must be a string URI template'],
    [{ proxyName: '' }, 'proxyName: must be non-empty printable ASCII (a Proxy-Status member)'],
    [{ proxyName: 'a b' }, 'proxyName: must be non-empty printable ASCII (a Proxy-Status member)'],
    [{ auth: { mode: 'digest' } }, 'auth.mode: mode must be "none", "bearer" or "basic"'],
    [{ auth: {} }, 'auth.mode: mode must be "none", "bearer" or "basic"'],
    [{ auth: { mode: 'bearer', tokens: [] } }, 'auth.tokens: needs at least one token'],
    [
      { auth: { mode: 'bearer', tokens: ['a b'] } },
      'auth.tokens[0]: not a token68 (RFC 6750 §2.1)',
    ],
    [{ auth: { mode: 'bearer', tokens: [''] } }, 'auth.tokens[0]: must not be empty (token)'],
    [
      { auth: { mode: 'bearer', tokens: ['t'], realm: '' } },
      'auth.realm: must not be empty (realm)',
    ],
    [{ auth: { mode: 'none', tokens: ['t'] } }, 'auth: unknown field "tokens"'],
    [{ auth: { mode: 'basic', users: [] } }, 'auth.users: needs at least one user'],
    [
      { auth: { mode: 'basic', users: [{ user: 'a:b', password: 'p' }] } },
      'auth.users[0].user: a Basic user name must not contain ":" (RFC 7617 §2)',
    ],
    [
      { auth: { mode: 'basic', users: [{ user: 'a' }] } },
      'auth.users[0]: give exactly one of "password" and "scrypt"',
    ],
    [
      { auth: { mode: 'basic', users: [{ user: 'a', password: 'p', scrypt: 'x' }] } },
      'auth.users[0].scrypt: not a scrypt$N$r$p$salt$hash string',
    ],
    [
      {
        auth: {
          mode: 'basic',
          users: [
            { user: 'a', password: 'p' },
            { user: 'a', password: 'q' },
          ],
        },
      },
      'auth.users: user names must be unique',
    ],
    [
      { targets: { allow: ['10.0.0.1/8'] } },
      'targets.allow[0]: target rule "10.0.0.1/8": host bits set; did you mean 10.0.0.0/8?',
    ],
    [
      { targets: { deny: ['ok.example'] } },
      'targets.deny[0]: target rule "ok.example": "ok.example" is not an IPv4 address',
    ],
    [{ targets: { allow: [5] } }, 'targets.allow[0]: must be a string CIDR[:PORTS]'],
    [{ targets: { allowSpecial: 'yes' } }, 'targets.allowSpecial: must be true or false'],
    [{ targets: { permit: [] } }, 'targets: unknown field "permit"'],
    [{ dns: { timeoutMs: 0 } }, 'dns.timeoutMs: must be at least 1 (milliseconds)'],
    [{ dns: { timeoutMs: 1.5 } }, 'dns.timeoutMs: must be an integer (milliseconds)'],
    [{ dns: { tries: 11 } }, 'dns.tries: must be at most 10 (attempts)'],
    [{ dns: { servers: [''] } }, 'dns.servers[0]: must not be empty (DNS server address)'],
    [{ dns: { prefer: 'both' } }, 'dns.prefer: must be "ipv6" or "ipv4"'],
    [{ dns: { mode: 'hosts' } }, 'dns.mode: must be "system" or "dns"'],
    [{ dns: { fallback: 'yes' } }, 'dns.fallback: must be true or false'],
    [
      { dns: { mode: 'system', servers: ['192.0.2.53'] } },
      'dns.servers: the system resolver asks the servers of /etc/resolv.conf; use "mode": "dns"',
    ],
    [{ request: { strictAuthority: 1 } }, 'request.strictAuthority: must be true or false'],
    [
      { request: { requireCapsuleProtocol: 'no' } },
      'request.requireCapsuleProtocol: must be true or false',
    ],
    [
      { limits: { tunnelsPerConnection: 0 } },
      'limits.tunnelsPerConnection: must be at least 1 (tunnels)',
    ],
    [{ limits: { tunnelsTotal: '5' } }, 'limits.tunnelsTotal: must be a number (tunnels)'],
    [{ limits: { datagramQueue: -1 } }, 'limits.datagramQueue: must be at least 1 (datagrams)'],
    [
      { limits: { tunnelIdleTimeoutMs: 999 } },
      'limits.tunnelIdleTimeoutMs: must be at least 1000 (milliseconds)',
    ],
    [{ metrics: {} }, 'metrics.listen: must be a string "host:port"'],
    [{ metrics: { listen: 'x' } }, 'metrics.listen: "x" is not host:port (IPv6 as [addr]:port)'],
    [
      { logLevel: 'verbose' },
      'logLevel: must be one of fatal, error, warn, info, debug, trace, silent',
    ],
  ])('%j', (value, expected) => {
    const list = problems(value);
    expect(list.some((p) => p.startsWith(expected))).toBe(true);
  });

  it('lists every problem, one per line', () => {
    let err: ConfigError | undefined;
    try {
      parseConfig({ listen: 'x', logLevel: 'loud', extra: 1 }, { source: 'proxy.json' });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems).toHaveLength(3);
    expect(err?.message.split('\n')).toEqual([
      'invalid configuration (proxy.json):',
      ...(err?.problems ?? []),
    ]);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'masque-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads JSON and resolves certificate paths against the file directory', async () => {
    const file = join(dir, 'ok.json');
    await writeFile(file, JSON.stringify({ certificate: { cert: 'c.pem', key: '/abs/k.pem' } }));
    const c = await loadConfig(file);
    expect(c.certificate).toEqual({ cert: join(dir, 'c.pem'), key: '/abs/k.pem' });
  });

  it('reports unreadable files, bad JSON and invalid values as ConfigError', async () => {
    await expect(loadConfig(join(dir, 'missing.json'))).rejects.toThrow(/cannot read the file/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "listen": ');
    await expect(loadConfig(bad)).rejects.toThrow(/not valid JSON/);
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, '{ "logLevel": 3 }');
    await expect(loadConfig(invalid)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('helpers', () => {
  it('formatPath', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['targets', 'allow', 2])).toBe('targets.allow[2]');
  });

  it('parseListenAddress', () => {
    expect(parseListenAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('[::1]:4433')).toEqual({ host: '::1', port: 4433 });
  });

  it('configWarnings flags an open proxy and special targets', () => {
    const c = parseConfig({ listen: '0.0.0.0:443', targets: { allowSpecial: true } });
    expect(configWarnings(c)).toEqual([
      'auth: no authentication on a non-loopback address makes an open proxy',
      'targets.allowSpecial: private, loopback and other special destinations are reachable',
    ]);
  });
});
