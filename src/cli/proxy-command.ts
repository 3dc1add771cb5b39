/**
 * `masque proxy`: starts the connect-udp proxy from a configuration file and/or flags (flags win;
 * rule flags are appended to the file's rules), validated as one configuration so that every
 * problem is reported with its field, then prints how to reach it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type ReloadOutcome, type RunningProxy, startProxy } from '../app/proxy-server.js';
import { ConfigError, configWarnings, type ProxyConfig, parseConfig } from '../config/index.js';
import { CidSteering } from '../quic/cid/steering.js';
import { cacheDir, devCertificate, resetKeyFile } from './dev-cert-cache.js';
import type { CliIO } from './io.js';
import { announceWorker, runWorkers, type WorkersCommand, workerId } from './workers.js';

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
  /** Worker processes sharing the UDP port (workers.ts). */
  workers?: number;
  /** `--no-ack-frequency` sets false: the proxy never sends ACK_FREQUENCY. */
  ackFrequency?: boolean;
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

/** The running `masque proxy`: the proxy, and how to reload it from its flags and file. */
export interface ProxyCommand {
  readonly proxy: RunningProxy;
  /**
   * Reads the configuration file (and the certificate files) again, with the same flags, and
   * applies it to new tunnels; logs what was reloaded, or why nothing was (the running
   * configuration stays). Never rejects.
   */
  reload(): Promise<ReloadOutcome | undefined>;
  /** Drains for `shutdownGraceMs` (new tunnels refused), then stops. */
  close(): Promise<void>;
}

/**
 * The configuration the flags and the file describe, secrets read from their files and `env`
 * (again at every reload); throws {@link ConfigError}.
 */
async function buildConfig(flags: ProxyFlags, env: NodeJS.ProcessEnv): Promise<ProxyConfig> {
  const raw = flags.config === undefined ? {} : await readConfigFile(flags.config);
  if (flags.listen !== undefined) raw.listen = flags.listen;
  if (flags.workers !== undefined) raw.workers = flags.workers;
  // A worker (workers.ts): the port the primary chose; /metrics is the primary's.
  if (workerId(env) !== undefined) {
    raw.listen = env.MASQUE_WORKER_LISTEN ?? raw.listen;
    delete raw.metrics;
  }
  if (flags.template !== undefined) raw.template = flags.template;
  if (flags.metrics !== undefined && workerId(env) === undefined) {
    raw.metrics = { listen: flags.metrics };
  }
  if (flags.logLevel !== undefined) raw.logLevel = flags.logLevel;
  if (flags.allowTarget.length > 0 || flags.denyTarget.length > 0) {
    const targets = asObject(raw.targets);
    targets.allow = [...asList(targets.allow), ...flags.allowTarget];
    targets.deny = [...asList(targets.deny), ...flags.denyTarget];
    raw.targets = targets;
  }
  return parseConfig(
    raw,
    flags.config === undefined
      ? { source: 'command line', env }
      : { baseDir: dirname(resolve(flags.config)), source: flags.config, env },
  );
}

/** How often the development certificate is checked for renewal (it renews within a day of expiry). */
const DEV_CERT_CHECK_MS = 3_600_000;

/**
 * Starts the proxy, or with `workers` > 1 its worker processes (this process then holds none
 * itself: {@link WorkersCommand}); a configuration problem throws {@link ConfigError}.
 */
export async function runProxy(
  flags: ProxyFlags,
  io: CliIO,
): Promise<ProxyCommand | WorkersCommand> {
  const config = await buildConfig(flags, io.env);
  const worker = workerId(io.env);
  if (config.workers > 1 && worker === undefined) {
    // One development certificate and reset key for every worker, made before they start.
    if (config.certificate === undefined) await devCertificate(cacheDir(io.env));
    if (config.statelessResetKeyFile === undefined) await resetKeyFile(cacheDir(io.env));
    for (const w of configWarnings(config)) io.stderr(`warning: ${w}\n`);
    return runWorkers(config, io);
  }
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
  if (worker === undefined) {
    for (const w of configWarnings(config)) io.stderr(`warning: ${w}\n`);
  }
  const proxy = await startProxy(config, {
    certPem,
    keyPem,
    logger: worker === undefined ? io.logger : io.logger?.child({ worker }),
    maxUdpPayload: flags.maxUdpPayload,
    ackFrequency: flags.ackFrequency === false ? false : undefined,
    qlogDir: flags.qlogDir,
    reusePort: worker !== undefined,
    // Worker numbers are 1..N; the mark in CIDs is 0..N-1 (workers.ts attaches the program).
    cidSteering: worker === undefined ? undefined : new CidSteering(worker - 1, config.workers),
    logBindings: worker === undefined ? undefined : { worker },
  });
  if (worker !== undefined) announceWorker(proxy, worker);
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
  // The primary prints the banner of a worker set.
  if (worker === undefined) io.stdout(`${lines.join('\n')}\n`);

  const log = proxy.logger;
  const devCertNow = async (): Promise<{ certPem: string; keyPem: string } | undefined> => {
    if (proxy.config.certificate !== undefined) return undefined;
    const dev = await devCertificate(cacheDir(io.env));
    return { certPem: dev.certPem, keyPem: dev.keyPem };
  };
  let reloading = Promise.resolve<ReloadOutcome | undefined>(undefined);
  const reloadOnce = async (): Promise<ReloadOutcome | undefined> => {
    try {
      const next = await buildConfig(flags, io.env);
      next.statelessResetKeyFile ??= proxy.config.statelessResetKeyFile;
      const dev =
        next.certificate === undefined ? await devCertificate(cacheDir(io.env)) : undefined;
      const outcome = await proxy.reload(next, dev);
      for (const w of configWarnings(next)) io.stderr(`warning: ${w}\n`);
      log.info(
        {
          config: flags.config ?? null,
          reloaded: outcome.applied,
          restartNeeded: outcome.restartNeeded,
        },
        outcome.applied.length === 0
          ? 'configuration reloaded: nothing changed'
          : 'configuration reloaded',
      );
      if (outcome.restartNeeded.length > 0) {
        log.warn(
          { restartNeeded: outcome.restartNeeded },
          'some changed settings take a restart; their running values stay',
        );
      }
      return outcome;
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [String(err)];
      log.error(
        { config: flags.config ?? null, problems },
        'configuration not reloaded: the running configuration stays',
      );
      return undefined;
    }
  };
  // The development certificate renews itself within a day of expiry, while running too.
  const renewal = setInterval(() => {
    devCertNow().then(
      (dev) => {
        if (dev === undefined || dev.certPem === proxy.certPem) return;
        return proxy.reload(proxy.config, dev).then(() => {
          log.info({ spkiSha256: proxy.spkiSha256 }, 'development certificate renewed');
        });
      },
      (err: unknown) => log.error({ err }, 'development certificate renewal failed'),
    );
  }, DEV_CERT_CHECK_MS);
  renewal.unref();
  return {
    proxy,
    reload: () => {
      // One at a time, in the order asked.
      reloading = reloading.then(reloadOnce);
      return reloading;
    },
    close: () => {
      clearInterval(renewal);
      return proxy.close({ drain: proxy.config.shutdownGraceMs });
    },
  };
}
