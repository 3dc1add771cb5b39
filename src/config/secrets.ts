/**
 * Secrets of the configuration (bearer tokens, Basic passwords and scrypt hashes, the QUIC-LB
 * key) given three ways, each where a string is taken today:
 *
 *   "s3cret"                           the literal, in the file itself
 *   { "file": "/run/secrets/bearer" }  the file's contents, less one trailing newline; a relative
 *                                      path is relative to the configuration file, and `${NAME}`
 *                                      expands an environment variable (systemd's
 *                                      `${CREDENTIALS_DIRECTORY}/bearer`)
 *   { "env": "MASQUE_BEARER" }         an environment variable, which must be set and non-empty
 *
 * They are substituted before validation, so a secret from a file or the environment is checked
 * like a literal (a token must still be a token68), and a mistake names the field and where the
 * value came from. Files are read at every load, so a reload (SIGHUP) picks up a rotated secret.
 *
 * A secret file that the group or others may read is a warning, not an error: ssh refuses such
 * key files, but Docker and Kubernetes mount secrets 0444 (readable by the container's other
 * users) by default, and refusing would leave those deployments with no way in. The warning says
 * which field, which file and how to fix it.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { formatPath } from './path.js';

/** Where secrets may stand, `*` for every element of an array. */
export const SECRET_FIELDS: ReadonlyArray<readonly string[]> = [
  ['auth', 'tokens', '*'],
  ['auth', 'users', '*', 'password'],
  ['auth', 'users', '*', 'scrypt'],
  ['quicAware', 'quicLb', 'key'],
];

/** What secrets are read with. */
export interface SecretSources {
  /** Environment of `{ "env" }` and of `${NAME}` in file paths. */
  env: NodeJS.ProcessEnv;
  /** Directory relative secret file paths are resolved against (default: the working directory). */
  baseDir?: string;
}

/** The configuration value with its secrets substituted, and what went wrong or is doubtful. */
export interface ResolvedSecrets {
  value: unknown;
  /** `field: problem`, one per secret that could not be read. */
  problems: string[];
  /** Paths (as {@link formatPath} writes them) of the secrets that could not be read. */
  failed: Set<string>;
  /** Where each substituted secret came from ("file /x", "environment variable X"), by path. */
  origins: Map<string, string>;
  warnings: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Outcome = { ok: true; value: string; origin: string } | { ok: false; problem: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `${NAME}` in a path, expanded from the environment. */
function expandPath(path: string, env: NodeJS.ProcessEnv): string | { missing: string } {
  let missing: string | undefined;
  const out = path.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') missing ??= name;
    return v ?? '';
  });
  return missing === undefined ? out : { missing };
}

/** One trailing newline ("\n" or "\r\n") is the editor's, not the secret's. */
function chompOnce(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

function fromFile(raw: string, src: SecretSources, warnings: string[], field: string): Outcome {
  const expanded = expandPath(raw, src.env);
  if (typeof expanded !== 'string') {
    return {
      ok: false,
      problem: `the file path "${raw}" uses \${${expanded.missing}}, which is not set in the environment`,
    };
  }
  const path = isAbsolute(expanded) ? expanded : resolve(src.baseDir ?? '.', expanded);
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, problem: `cannot read the secret file ${path}: ${(err as Error).message}` };
  }
  const value = chompOnce(text);
  if (value === '') return { ok: false, problem: `the secret file ${path} is empty` };
  const w = modeWarning(field, path, mode);
  if (w !== undefined) warnings.push(w);
  return { ok: true, value, origin: `file ${path}` };
}

function modeWarning(field: string, path: string, mode: number): string | undefined {
  if ((mode & 0o044) === 0) return undefined;
  const who = mode & 0o004 ? 'every user' : 'its group';
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  return `${field}: the secret file ${path} is readable by ${who} (mode ${octal}); chmod 600 it`;
}

/**
 * The warning for a secret file (such as `statelessResetKeyFile`) that the group or others may
 * read, if it is one; nothing for a file that cannot be read (its reader reports that).
 */
export function secretFileWarning(field: string, path: string): string | undefined {
  try {
    return modeWarning(field, path, statSync(path).mode);
  } catch {
    return undefined;
  }
}

function fromEnv(name: string, src: SecretSources): Outcome {
  if (!ENV_NAME.test(name)) {
    return { ok: false, problem: `"${name}" is not an environment variable name` };
  }
  const v = src.env[name];
  if (v === undefined) return { ok: false, problem: `the environment variable ${name} is not set` };
  if (v === '') return { ok: false, problem: `the environment variable ${name} is empty` };
  return { ok: true, value: v, origin: `environment variable ${name}` };
}

/** A secret's value from its reference, or undefined when `v` is no reference (a literal). */
function readSecret(
  v: unknown,
  src: SecretSources,
  warnings: string[],
  field: string,
): Outcome | undefined {
  if (!isRecord(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'file' && typeof v.file === 'string' && v.file !== '') {
    return fromFile(v.file, src, warnings, field);
  }
  if (keys.length === 1 && keys[0] === 'env' && typeof v.env === 'string') {
    return fromEnv(v.env, src);
  }
  return {
    ok: false,
    problem: 'must be a string, { "file": "PATH" } or { "env": "NAME" }',
  };
}

/**
 * Substitutes every secret reference at {@link SECRET_FIELDS} in `value` (a parsed JSON
 * configuration), copying what it changes; never throws. Shapes it does not recognise are left
 * for the schema to report.
 */
export function resolveSecrets(value: unknown, src: SecretSources): ResolvedSecrets {
  const out: ResolvedSecrets = {
    value,
    problems: [],
    failed: new Set(),
    origins: new Map(),
    warnings: [],
  };
  const walk = (node: unknown, pattern: readonly string[], path: PropertyKey[]): unknown => {
    if (pattern.length === 0) {
      const field = formatPath(path);
      const r = readSecret(node, src, out.warnings, field);
      if (r === undefined) return node;
      if (!r.ok) {
        out.problems.push(`${field}: ${r.problem}`);
        out.failed.add(field);
        // Left as it was: the schema's "must be a string" for it is dropped, and a rule of the
        // enclosing object (a password or a scrypt hash) still sees a value there.
        return node;
      }
      out.origins.set(field, r.origin);
      return r.value;
    }
    const [head, ...rest] = pattern;
    if (head === '*') {
      if (!Array.isArray(node)) return node;
      return node.map((item, i) => walk(item, rest, [...path, i]));
    }
    if (!isRecord(node) || !(head in node)) return node;
    return { ...node, [head]: walk(node[head], rest, [...path, head]) };
  };
  for (const pattern of SECRET_FIELDS) out.value = walk(out.value, pattern, []);
  return out;
}
