/**
 * The proxy configuration file (JSON), validated with zod. Unknown keys are errors (typos must
 * not silently fall back to defaults). Every problem is reported with the path to the field.
 *
 * ```json
 * {
 *   "listen": "127.0.0.1:4433",
 *   "certificate": { "cert": "cert.pem", "key": "key.pem" },
 *   "template": "https://proxy.example:4433/.well-known/masque/udp/{target_host}/{target_port}/",
 *   "proxyName": "proxy.example",
 *   "auth": { "mode": "bearer", "tokens": ["s3cret"] },
 *   "targets": { "allow": ["127.0.0.0/8:5353"], "deny": ["192.0.2.0/24"] },
 *   "dns": { "timeoutMs": 5000, "prefer": "ipv6" },
 *   "limits": { "tunnelsPerConnection": 64, "tunnelIdleTimeoutMs": 120000, "connectionsPerSource": 256 },
 *   "bind": { "publicAddresses": ["192.0.2.1"], "compressAfter": 16 },
 *   "metrics": { "listen": "127.0.0.1:9464" },
 *   "accessLog": true,
 *   "logLevel": "info"
 * }
 * ```
 *
 * Secrets (auth tokens, passwords, scrypt hashes, the QUIC-LB key) may also be given as
 * `{ "file": PATH }` or `{ "env": NAME }`; `secrets.ts` substitutes them before this schema runs.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { AuthConfig } from '../masque/connect-udp/auth.js';
import { parseScryptHash } from '../masque/connect-udp/auth.js';
import { ConnectUdpError } from '../masque/connect-udp/errors.js';
import { parseTargetRule, type TargetRule } from '../masque/connect-udp/target-rule.js';
import { parseTemplate } from '../masque/connect-udp/uri-template.js';

/** A socket address to listen on. */
export interface ListenAddress {
  /** IPv4 or IPv6 address (no brackets) or a host name such as `localhost`. */
  host: string;
  /** Port, 0..65535 (0: pick a free one). */
  port: number;
}

const HOSTNAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Parses `host:port` / `[v6]:port`; returns an error message instead of throwing. */
export function parseListenAddress(text: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  if (m === null) return `"${text}" is not host:port (IPv6 as [addr]:port)`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${m[3]} is not in 0..65535`;
  if (m[1] !== undefined) {
    if (!isIPv6(m[1])) return `"${m[1]}" is not an IPv6 address`;
    return { host: m[1], port };
  }
  if (!isIPv4(m[2]) && !HOSTNAME.test(m[2])) return `"${m[2]}" is not an IP address or host name`;
  return { host: m[2], port };
}

const listen = z.string({ error: 'must be a string "host:port"' }).transform((text, ctx) => {
  const r = parseListenAddress(text);
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  }
  return r;
});

const ipLiteral = (what: string, family?: 4 | 6) =>
  z
    .string({ error: `must be a string (${what})` })
    .refine((t) => (family === 4 ? isIPv4(t) : family === 6 ? isIPv6(t) : isIPv4(t) || isIPv6(t)), {
      error: `must be an IP${family === undefined ? '' : `v${family}`} address (${what})`,
    });

const nonEmpty = (what: string) =>
  z
    .string({ error: `must be a string (${what})` })
    .min(1, { error: `must not be empty (${what})` });

const basicUser = z
  .strictObject({
    user: nonEmpty('user name').refine((u) => !u.includes(':'), {
      error: 'a Basic user name must not contain ":" (RFC 7617 §2)',
    }),
    password: nonEmpty('password').optional(),
    scrypt: z
      .string({ error: 'must be a string scrypt$N$r$p$salt$hash' })
      .superRefine((v, ctx) => {
        try {
          parseScryptHash(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      })
      .optional(),
  })
  .refine((u) => (u.password === undefined) !== (u.scrypt === undefined), {
    error: 'give exactly one of "password" and "scrypt"',
  });

const auth = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('none') }),
    z.strictObject({
      mode: z.literal('bearer'),
      tokens: z
        .array(
          nonEmpty('token').regex(/^[A-Za-z0-9\-._~+/]+=*$/, {
            error: 'not a token68 (RFC 6750 §2.1)',
          }),
        )
        .min(1, { error: 'needs at least one token' }),
      realm: nonEmpty('realm').optional(),
    }),
    z.strictObject({
      mode: z.literal('basic'),
      users: z
        .array(basicUser)
        .min(1, { error: 'needs at least one user' })
        .refine((us) => new Set(us.map((u) => u.user)).size === us.length, {
          error: 'user names must be unique',
        }),
      realm: nonEmpty('realm').optional(),
    }),
  ],
  { error: 'mode must be "none", "bearer" or "basic"' },
);

const ruleList = (action: 'allow' | 'deny') =>
  z.array(z.string({ error: 'must be a string CIDR[:PORTS]' })).transform((items, ctx) => {
    const rules: TargetRule[] = [];
    items.forEach((text, i) => {
      try {
        rules.push(parseTargetRule(text, action));
      } catch (e) {
        if (!(e instanceof ConnectUdpError)) throw e;
        ctx.addIssue({ code: 'custom', message: e.message, path: [i] });
      }
    });
    return rules;
  });

const int = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be a number (${what})` })
    .int({ error: `must be an integer (${what})` })
    .min(min, { error: `must be at least ${min} (${what})` })
    .max(max, { error: `must be at most ${max} (${what})` });

/** The configuration schema; `parse` yields {@link ProxyConfig} with defaults filled in. */
export const proxyConfigSchema = z.strictObject({
  listen: listen.prefault('127.0.0.1:4433'),
  certificate: z
    .strictObject({
      cert: nonEmpty('certificate chain PEM path'),
      key: nonEmpty('private key PEM path'),
    })
    .optional(),
  /**
   * File whose contents derive the stateless reset key (RFC 9000 §10.3.2), so clients recognise
   * our resets across restarts. Default: `masque proxy` keeps one in its cache directory.
   */
  statelessResetKeyFile: nonEmpty('stateless reset key file path').optional(),
  template: z
    .string({ error: 'must be a string URI template' })
    .superRefine((t, ctx) => {
      try {
        parseTemplate(t);
      } catch (e) {
        if (!(e instanceof ConnectUdpError)) throw e;
        ctx.addIssue({ code: 'custom', message: e.message });
      }
    })
    .optional(),
  proxyName: z
    .string({ error: 'must be a string' })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be non-empty printable ASCII (a Proxy-Status member)' })
    .default('masque'),
  auth: auth.prefault({ mode: 'none' }),
  targets: z
    .strictObject({
      deny: ruleList('deny').prefault([]),
      allow: ruleList('allow').prefault([]),
      allowSpecial: z.boolean({ error: 'must be true or false' }).default(false),
    })
    .prefault({}),
  /**
   * How target names become addresses. `mode`: "system" (getaddrinfo: /etc/hosts, nsswitch, as
   * every program on the host resolves) or "dns" (c-ares: asks DNS `servers` directly, or the
   * system's name servers, `tries` times); default "dns" when `servers` is given, else "system".
   * `prefer`: the family tried first (RFC 8305 §4, families alternating); `fallback`: a tunnel
   * whose socket cannot open to one address tries the next (drafts/rfc8305.md).
   */
  dns: z
    .strictObject({
      mode: z.enum(['system', 'dns'], { error: 'must be "system" or "dns"' }).optional(),
      timeoutMs: int(1, 60_000, 'milliseconds').default(5000),
      tries: int(1, 10, 'attempts').default(2),
      servers: z.array(nonEmpty('DNS server address')).optional(),
      prefer: z.enum(['ipv6', 'ipv4'], { error: 'must be "ipv6" or "ipv4"' }).default('ipv6'),
      fallback: z.boolean({ error: 'must be true or false' }).default(true),
    })
    .superRefine((d, ctx) => {
      if (d.mode === 'system' && d.servers !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['servers'],
          message: 'the system resolver asks the servers of /etc/resolv.conf; use "mode": "dns"',
        });
      }
    })
    .transform((d) => ({ ...d, mode: d.mode ?? (d.servers === undefined ? 'system' : 'dns') }))
    .prefault({}),
  request: z
    .strictObject({
      strictAuthority: z.boolean({ error: 'must be true or false' }).default(false),
      requireCapsuleProtocol: z.boolean({ error: 'must be true or false' }).default(false),
    })
    .prefault({}),
  limits: z
    .strictObject({
      tunnelsPerConnection: int(1, 1_000_000, 'tunnels').default(64),
      tunnelsTotal: int(1, 10_000_000, 'tunnels').default(10_000),
      datagramQueue: int(1, 1_000_000, 'datagrams').default(1024),
      tunnelIdleTimeoutMs: int(1000, 86_400_000, 'milliseconds').default(120_000),
      // QUIC connections at once, in total and per client IP address (any port), and of those the
      // half-open (still handshaking) ones; see QuicEndpointOptions. The defaults: 10,000
      // connections at tens of KiB each stay well under a GiB; 256 per address leaves room for
      // clients behind one NAT; a handshake costs a TLS signature and ~60 KiB until it completes
      // or times out, so 1,024 half-open in total (64 from one address, the Retry threshold)
      // bound what a client answering every Retry can claim (issue 10).
      connections: int(1, 10_000_000, 'connections').default(10_000),
      connectionsPerSource: int(1, 10_000_000, 'connections').default(256),
      halfOpenConnections: int(1, 10_000_000, 'connections').default(1024),
      halfOpenPerSource: int(1, 10_000_000, 'connections').default(64),
      // New-connection Initials per second from one client IP address, checked before they are
      // decrypted (burst: twice as many at once); beyond it they are dropped and counted
      // (initial-rate-limited). 100/s lets a NAT fill its 256 connections within seconds.
      initialsPerSecondPerSource: int(1, 10_000_000, 'Initials per second').default(100),
    })
    .prefault({}),
  /** connect-udp-bind (draft-ietf-masque-connect-udp-listen). */
  bind: z
    .strictObject({
      enabled: z.boolean({ error: 'must be true or false' }).default(true),
      /** Addresses peers must use, when the proxy is behind NAT or a load balancer. */
      publicAddresses: z.array(ipLiteral('public address')).default([]),
      /** Local addresses of the bound sockets; false: the family is not offered. */
      egress: z
        .strictObject({
          ipv4: z.union([ipLiteral('IPv4 egress address', 4), z.literal(false)]).optional(),
          ipv6: z.union([ipLiteral('IPv6 egress address', 6), z.literal(false)]).optional(),
        })
        .prefault({}),
      maxTunnels: int(1, 1_000_000, 'bound tunnels').default(1000),
      maxContextsPerTunnel: int(1, 65_536, 'contexts').default(64),
      /** Proxy-side compression after this many datagrams from one peer; 0 turns it off. */
      compressAfter: int(0, 1_000_000, 'datagrams').default(16),
      maxUnackedAssigns: int(1, 1024, 'assignments').default(8),
      /** Compression capsule codepoints: final (0x11-0x13), legacy (before -10), or auto. */
      wire: z
        .enum(['auto', 'final', 'legacy'], { error: 'must be "auto", "final" or "legacy"' })
        .default('auto'),
    })
    .prefault({}),
  /**
   * connect-udp (and bind) over TCP, for networks that block UDP: HTTP/2 (RFC 8441 extended
   * CONNECT) and, unless `http1` is false, HTTP/1.1 (RFC 9298 §3.3 Upgrade) on the same port,
   * ALPN choosing.
   */
  http2: z
    .strictObject({
      enabled: z.boolean({ error: 'must be true or false' }).default(true),
      /** Also serve HTTP/1.1 (ALPN http/1.1, or none) on this listener. */
      http1: z.boolean({ error: 'must be true or false' }).default(true),
      /** Serve HTTP/2 on this listener (false: HTTP/1.1 alone). */
      h2: z.boolean({ error: 'must be true or false' }).default(true),
      /** Default: the UDP listener's address and port number. */
      listen: listen.optional(),
    })
    .refine((h) => !h.enabled || h.h2 || h.http1, {
      error: 'h2 and http1 are both false: nothing to serve over TCP (set enabled: false instead)',
    })
    .prefault({}),
  /** QUIC-aware proxying (draft-ietf-masque-quic-proxy). */
  quicAware: z
    .strictObject({
      enabled: z.boolean({ error: 'must be true or false' }).default(true),
      /** Forwarded mode (VCIDs, transforms). */
      forwarding: z.boolean({ error: 'must be true or false' }).default(true),
      /** Wire profiles accepted; the client's first CID capsule picks one. */
      profiles: z
        .array(
          z.enum(['draft-09', 'draft-08', 'draft-07'], {
            error: 'must be "draft-09", "draft-08" or "draft-07"',
          }),
        )
        .min(1, { error: 'needs at least one profile' })
        .default(['draft-09', 'draft-08', 'draft-07']),
      /** Transforms accepted, in our preference. */
      transforms: z
        .array(
          z.enum(['scramble-dt', 'identity'], { error: 'must be "scramble-dt" or "identity"' }),
        )
        .default(['scramble-dt', 'identity']),
      portSharing: z.boolean({ error: 'must be true or false' }).default(true),
      minCidLength: int(0, 20, 'bytes').default(4),
      maxConnectionIds: int(2, 4096, 'registrations').default(16),
      /** Re-registering a CID consumes no sequence number (the draft-09 reading). */
      reregistrationIsFree: z.boolean({ error: 'must be true or false' }).default(true),
      /**
       * QUIC-LB routable VCIDs (draft-ietf-quic-load-balancers) for a fleet behind a CID-aware
       * balancer: this instance's server ID (hex), the nonce length, an optional 16-byte key (hex;
       * server ID + nonce must then be 16 bytes).
       */
      quicLb: z
        .strictObject({
          configId: int(0, 6, 'config rotation codepoint'),
          serverId: z.string().regex(/^([0-9a-fA-F]{2})+$/, { error: 'must be hex bytes' }),
          nonceLength: int(4, 18, 'bytes'),
          key: z
            .string()
            .regex(/^[0-9a-fA-F]{32}$/, { error: 'must be 16 bytes of hex' })
            .optional(),
        })
        .optional(),
    })
    .prefault({}),
  metrics: z.strictObject({ listen }).optional(),
  /**
   * One info line per tunnel at open and at close (client, target, mode, status, Proxy-Status,
   * bytes and datagrams each way, drops, duration, close reason). Refusals are logged either way.
   */
  accessLog: z.boolean({ error: 'must be true or false' }).default(true),
  /**
   * On SIGTERM / SIGINT, how long running tunnels may go on (new ones are refused with 503)
   * before the rest are closed (ms). A second signal stops at once.
   */
  shutdownGraceMs: int(0, 86_400_000, 'milliseconds').default(10_000),
  // Worker processes serving the UDP port together (SO_REUSEPORT, Node >= 22.12; src/cli/workers.ts):
  // 1 runs the proxy in this process. A change takes a restart.
  workers: int(1, 256, 'worker processes').default(1),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

/** The validated configuration with defaults. */
export type ProxyConfig = z.output<typeof proxyConfigSchema>;

/** The rules in evaluation order: every deny rule, then every allow rule. */
export function targetRules(config: ProxyConfig): TargetRule[] {
  return [...config.targets.deny, ...config.targets.allow];
}

/** The auth section as the {@link AuthConfig} the authenticator takes. */
export function authConfig(config: ProxyConfig): AuthConfig {
  return config.auth;
}
