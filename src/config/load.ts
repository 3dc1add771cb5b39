/**
 * Loading the configuration file: read, parse JSON, validate, resolve relative certificate paths
 * against the file's directory. Every problem is collected into one {@link ConfigError}, one
 * line per problem, `path.to.field: what is wrong`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { formatPath } from './path.js';
import { type ProxyConfig, proxyConfigSchema } from './schema.js';
import { resolveSecrets, secretFileWarning } from './secrets.js';

/** Thrown for an unreadable, unparsable or invalid configuration. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per problem. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source?: string) {
    super(
      `invalid configuration${source === undefined ? '' : ` (${source})`}:\n${problems.join('\n')}`,
    );
    this.problems = problems;
  }
}

export { formatPath };

function describe(issue: z.core.$ZodIssue, origins: ReadonlyMap<string, string>): string {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length === 0 ? '' : `${formatPath(issue.path)}: `;
    return `${where}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const field = formatPath(issue.path);
  // A secret's own value is never echoed; where it came from is what the operator must fix.
  const origin = origins.get(field);
  return `${field}${origin === undefined ? '' : ` (from ${origin})`}: ${issue.message}`;
}

/** Warnings found while loading (secret files others may read), for {@link configWarnings}. */
const loadWarnings = new WeakMap<ProxyConfig, readonly string[]>();

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Directory that relative certificate paths are resolved against. */
  baseDir?: string;
  /** Where the value came from, for the error message. */
  source?: string;
  /** Environment of `{ "env": NAME }` secrets (see `secrets.ts`); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Validates an already-parsed JSON value, secrets read from their files and the environment
 * first (`secrets.ts`: small files, read synchronously once per load); throws {@link ConfigError}
 * with every problem at once.
 */
export function parseConfig(value: unknown, options: ParseConfigOptions = {}): ProxyConfig {
  const secrets = resolveSecrets(value, {
    env: options.env ?? process.env,
    baseDir: options.baseDir,
  });
  const r = proxyConfigSchema.safeParse(secrets.value);
  if (!r.success || secrets.problems.length > 0) {
    // A secret that could not be read is reported once, not again as "must be a string".
    const issues = r.success ? [] : r.error.issues;
    const rest = issues.filter((i) => !secrets.failed.has(formatPath(i.path)));
    throw new ConfigError(
      [...secrets.problems, ...rest.map((i) => describe(i, secrets.origins))],
      options.source,
    );
  }
  const config = r.data;
  if (config.certificate !== undefined && options.baseDir !== undefined) {
    const base = options.baseDir;
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
    config.certificate = { cert: abs(config.certificate.cert), key: abs(config.certificate.key) };
  }
  if (config.statelessResetKeyFile !== undefined && options.baseDir !== undefined) {
    config.statelessResetKeyFile = resolve(options.baseDir, config.statelessResetKeyFile);
  }
  if (config.statelessResetKeyFile !== undefined) {
    const w = secretFileWarning('statelessResetKeyFile', resolve(config.statelessResetKeyFile));
    if (w !== undefined) secrets.warnings.push(w);
  }
  if (secrets.warnings.length > 0) loadWarnings.set(config, secrets.warnings);
  return config;
}

/** Reads and validates a JSON configuration file; throws {@link ConfigError}. */
export async function loadConfig(path: string): Promise<ProxyConfig> {
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
  return parseConfig(value, { baseDir: dirname(resolve(path)), source: path });
}

/**
 * Legal but doubtful settings, one line each: secret files others may read, an idle timeout under two minutes (RFC 9298 §3.1:
 * "SHOULD NOT use a period lower than two minutes"), no authentication on a non-loopback
 * address, special-purpose destinations allowed.
 */
export function configWarnings(config: ProxyConfig): string[] {
  const out: string[] = [...(loadWarnings.get(config) ?? [])];
  if (config.limits.tunnelIdleTimeoutMs < 120_000) {
    out.push('limits.tunnelIdleTimeoutMs: below two minutes (RFC 9298 §3.1 SHOULD NOT)');
  }
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.listen.host);
  if (config.auth.mode === 'none' && !loopback) {
    out.push('auth: no authentication on a non-loopback address makes an open proxy');
  }
  if (config.targets.allowSpecial) {
    out.push(
      'targets.allowSpecial: private, loopback and other special destinations are reachable',
    );
  }
  return out;
}
