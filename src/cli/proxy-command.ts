/**
 * `masque proxy`: starts the connect-udp proxy from a configuration file and/or flags (flags win;
 * rule flags are appended to the file's rules), validated as one configuration so that every
 * problem is reported with its field, then prints how to reach it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type RunningProxy, startProxy } from '../app/proxy-server.js';
import { ConfigError, configWarnings, parseConfig } from '../config/index.js';
import { cacheDir, devCertificate, resetKeyFile } from './dev-cert-cache.js';
import type { CliIO } from './io.js';

/** Flags of `masque proxy`. */
export interface ProxyFlags {
  config?: string;
  listen?: string;
  allowTarget: string[];
  denyTarget: string[];
  metrics?: string;
  logLevel?: string;
  template?: string;
  /** Ceiling of QUIC path MTU discovery (1200-65527). */
  maxUdpPayload?: number;
  /** Directory for one qlog file per connection. */
  qlogDir?: string;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`cannot read the file: ${(e as Error).message}`], path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`not valid JSON: ${(e as Error).message}`], path);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(['(root): must be a JSON object'], path);
  }
  return value as Record<string, unknown>;
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? { ...(v as Record<string, unknown>) }
    : {};
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * The banner's local port: not 53 (privileged) nor 5353 (mDNS, often taken by avahi); 8053 is the
 * usual unprivileged DNS port of tests and home labs.
 */
export const BANNER_LOCAL = '127.0.0.1:8053';

/** `text` as one POSIX shell word. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9@%+=:,./_-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Starts the proxy; a configuration problem throws {@link ConfigError}. */
export async function runProxy(flags: ProxyFlags, io: CliIO): Promise<RunningProxy> {
  const raw = flags.config === undefined ? {} : await readConfigFile(flags.config);
  if (flags.listen !== undefined) raw.listen = flags.listen;
  if (flags.template !== undefined) raw.template = flags.template;
  if (flags.metrics !== undefined) raw.metrics = { listen: flags.metrics };
  if (flags.logLevel !== undefined) raw.logLevel = flags.logLevel;
  if (flags.allowTarget.length > 0 || flags.denyTarget.length > 0) {
    const targets = asObject(raw.targets);
    targets.allow = [...asList(targets.allow), ...flags.allowTarget];
    targets.deny = [...asList(targets.deny), ...flags.denyTarget];
    raw.targets = targets;
  }
  const config = parseConfig(
    raw,
    flags.config === undefined
      ? { source: 'command line' }
      : { baseDir: dirname(resolve(flags.config)), source: flags.config },
  );
  let certPem: string | undefined;
  let keyPem: string | undefined;
  let certFile = config.certificate?.cert;
  if (config.certificate === undefined) {
    const dev = await devCertificate(cacheDir(io.env));
    ({ certPem, keyPem } = dev);
    certFile = dev.certFile;
  }
  // Resets recognised across restarts (RFC 9000 §10.3): a key kept beside the dev certificate.
  config.statelessResetKeyFile ??= await resetKeyFile(cacheDir(io.env));
  for (const w of configWarnings(config)) io.stderr(`warning: ${w}\n`);
  const proxy = await startProxy(config, {
    certPem,
    keyPem,
    logger: io.logger,
    maxUdpPayload: flags.maxUdpPayload,
    qlogDir: flags.qlogDir,
  });
  const trust = `--ca ${shellQuote(certFile ?? 'CA.pem')}`;
  const lines = [
    `masque proxy listening on ${proxy.address} (HTTP/3, UDP)`,
    `  URI template:   ${proxy.template}`,
    `  certificate:    ${certFile}${config.certificate === undefined ? ' (development, self-signed)' : ''}`,
    `  SPKI sha256:    ${proxy.spkiSha256}`,
  ];
  if (proxy.metricsAddress !== undefined) {
    lines.push(`  metrics:        http://${proxy.metricsAddress}/metrics`);
  }
  lines.push(
    '',
    'Forward a local UDP port through it, for example DNS (npx: in the masque directory, or anywhere once installed):',
  );
  // Never a configured secret on stdout: the credential comes from the environment, which
  // udp-forward reads when no credential flag is given.
  if (config.auth.mode === 'bearer') {
    lines.push(`  export MASQUE_BEARER='<one of auth.tokens>'`);
  } else if (config.auth.mode === 'basic') {
    lines.push(`  export MASQUE_BASIC=${shellQuote(`${config.auth.users[0].user}:<password>`)}`);
  }
  lines.push(
    `  npx masque udp-forward --proxy ${shellQuote(proxy.template)} \\`,
    `    --listen ${BANNER_LOCAL} --target 9.9.9.9:53 ${trust}`,
  );
  if (config.targets.allow.length === 0 && !config.targets.allowSpecial) {
    lines.push(
      '',
      'Private and loopback targets are refused by default; allow some with --allow-target CIDR[:PORTS].',
    );
  }
  io.stdout(`${lines.join('\n')}\n`);
  return proxy;
}
