/**
 * Client authentication for the proxy: none, Bearer tokens (RFC 6750 §2.1) or Basic user and
 * password (RFC 7617), passwords either in clear or as scrypt hashes.
 *
 * Which header: a connect-udp proxy is a proxy, so credentials belong in Proxy-Authorization
 * and a failure is 407 with Proxy-Authenticate (RFC 9110 §11.7.1-§11.7.2, §15.5.8). Because the
 * extended CONNECT request also names the proxy as its origin (the template's authority), some
 * clients send Authorization instead; it is accepted when Proxy-Authorization is absent.
 *
 * Comparisons are constant-time: presented and stored secrets are hashed with SHA-256 and the
 * equal-length digests compared with `timingSafeEqual`, against every configured entry, so
 * neither a secret's length nor which entry matched shows in the timing.
 *
 * scrypt hashes use the text form `scrypt$N$r$p$<salt base64>$<hash base64>` (see
 * {@link hashPassword}).
 */
import { createHash, scryptSync, timingSafeEqual } from 'node:crypto';

/** One Basic user; exactly one of `password` and `scrypt`. */
export interface BasicUser {
  /** The user-id (no ":", RFC 7617 §2). */
  user: string;
  /** The password in clear. */
  password?: string;
  /** The password as `scrypt$N$r$p$salt$hash`. */
  scrypt?: string;
}

/** The authentication configuration. */
export type AuthConfig =
  | {
      /** No authentication. */
      mode: 'none';
    }
  | {
      /** `Bearer <token>`. */
      mode: 'bearer';
      /** Accepted tokens. */
      tokens: readonly string[];
      /** The realm in the challenge; default "masque". */
      realm?: string;
    }
  | {
      /** `Basic <base64(user:password)>`. */
      mode: 'basic';
      /** Accepted users. */
      users: readonly BasicUser[];
      /** The realm in the challenge; default "masque". */
      realm?: string;
    };

/** The outcome of {@link Authenticator.check}. */
export type AuthResult =
  | {
      /** Authenticated (or no authentication configured). */
      ok: true;
      /** The Basic user-id, when Basic was used. */
      user?: string;
    }
  | {
      /** Rejected: answer with `status` and `headers`. */
      ok: false;
      /** Always 407 (RFC 9110 §15.5.8). */
      status: 407;
      /** `proxy-authenticate` with the challenge. */
      headers: Array<[string, string]>;
      /** Why: no credentials, unparsable credentials, or wrong credentials. */
      reason: 'MISSING' | 'MALFORMED' | 'INVALID';
    };

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SCRYPT = /^scrypt\$([0-9]+)\$([0-9]+)\$([0-9]+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

function digest(text: string | Uint8Array): Buffer {
  return createHash('sha256').update(text).digest();
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

interface ScryptHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Parses `scrypt$N$r$p$salt$hash`; throws TypeError when malformed. */
export function parseScryptHash(text: string): ScryptHash {
  const m = SCRYPT.exec(text);
  if (m === null) throw new TypeError('not a scrypt$N$r$p$salt$hash string');
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 2 || (n & (n - 1)) !== 0 || r < 1 || p < 1) {
    throw new TypeError('scrypt N must be a power of two > 1, r and p positive');
  }
  const hash = Buffer.from(m[5], 'base64');
  if (hash.length < 16) throw new TypeError('scrypt hash shorter than 16 bytes');
  return { n, r, p, salt: Buffer.from(m[4], 'base64'), hash };
}

function scryptOf(password: string, h: Pick<ScryptHash, 'n' | 'r' | 'p' | 'salt'>, len: number) {
  return scryptSync(password, h.salt, len, {
    N: h.n,
    r: h.r,
    p: h.p,
    maxmem: 256 * h.n * h.r + 1e6,
  });
}

/**
 * `scrypt$N$r$p$salt$hash` for a password. The salt (16 random bytes recommended) is a
 * parameter: this module never draws randomness itself.
 */
export function hashPassword(
  password: string,
  salt: Uint8Array,
  params: { n?: number; r?: number; p?: number } = {},
): string {
  const h = { n: params.n ?? 16384, r: params.r ?? 8, p: params.p ?? 1, salt: Buffer.from(salt) };
  const hash = scryptOf(password, h, 32);
  return `scrypt$${h.n}$${h.r}$${h.p}$${h.salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Splits `Scheme credentials`; the scheme is case-insensitive (RFC 9110 §11.1). */
function splitCredentials(value: string): { scheme: string; token: string } | undefined {
  const m = /^([A-Za-z0-9!#$%&'*+\-.^_`|~]+) +([^ ]+) *$/.exec(value.trim());
  return m === null ? undefined : { scheme: m[1].toLowerCase(), token: m[2] };
}

interface StoredUser {
  user: Buffer;
  password?: Buffer;
  scrypt?: ScryptHash;
  name: string;
}

/** Checks request credentials against an {@link AuthConfig}. */
export class Authenticator {
  readonly #config: AuthConfig;
  readonly #tokens: Buffer[];
  readonly #users: StoredUser[];
  readonly #realm: string;

  constructor(config: AuthConfig) {
    this.#config = config;
    this.#realm = config.mode === 'none' ? 'masque' : (config.realm ?? 'masque');
    this.#tokens = config.mode === 'bearer' ? config.tokens.map((t) => digest(t)) : [];
    this.#users =
      config.mode === 'basic'
        ? config.users.map((u) => {
            if ((u.password === undefined) === (u.scrypt === undefined)) {
              throw new TypeError(`user ${u.user}: give exactly one of password and scrypt`);
            }
            return {
              name: u.user,
              user: digest(u.user),
              ...(u.password !== undefined ? { password: digest(u.password) } : {}),
              ...(u.scrypt !== undefined ? { scrypt: parseScryptHash(u.scrypt) } : {}),
            };
          })
        : [];
  }

  /** The challenge sent with 407. */
  challenge(error?: 'invalid_token'): string {
    if (this.#config.mode === 'basic') return `Basic realm=${quote(this.#realm)}, charset="UTF-8"`;
    const base = `Bearer realm=${quote(this.#realm)}`;
    return error === undefined ? base : `${base}, error="${error}"`;
  }

  #reject(reason: 'MISSING' | 'MALFORMED' | 'INVALID'): AuthResult {
    const error =
      this.#config.mode === 'bearer' && reason !== 'MISSING' ? 'invalid_token' : undefined;
    return {
      ok: false,
      status: 407,
      headers: [['proxy-authenticate', this.challenge(error)]],
      reason,
    };
  }

  /** Checks `proxy-authorization` (or, when absent, `authorization`) in a header section. */
  check(headers: ReadonlyArray<readonly [string, string]>): AuthResult {
    if (this.#config.mode === 'none') return { ok: true };
    const proxyAuth: string[] = [];
    const auth: string[] = [];
    for (const [name, value] of headers) {
      const n = name.toLowerCase();
      if (n === 'proxy-authorization') proxyAuth.push(value);
      else if (n === 'authorization') auth.push(value);
    }
    const values = proxyAuth.length > 0 ? proxyAuth : auth;
    if (values.length === 0) return this.#reject('MISSING');
    if (values.length > 1) return this.#reject('MALFORMED');
    const cred = splitCredentials(values[0]);
    if (cred === undefined) return this.#reject('MALFORMED');
    return this.#config.mode === 'bearer' ? this.#bearer(cred) : this.#basic(cred);
  }

  #bearer(cred: { scheme: string; token: string }): AuthResult {
    if (cred.scheme !== 'bearer' || !TOKEN68.test(cred.token)) return this.#reject('MALFORMED');
    const presented = digest(cred.token);
    let ok = false;
    for (const t of this.#tokens) ok = timingSafeEqual(presented, t) || ok;
    return ok ? { ok: true } : this.#reject('INVALID');
  }

  #basic(cred: { scheme: string; token: string }): AuthResult {
    if (cred.scheme !== 'basic' || !BASE64.test(cred.token)) return this.#reject('MALFORMED');
    const decoded = Buffer.from(cred.token, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return this.#reject('MALFORMED');
    const user = digest(decoded.slice(0, colon));
    const password = decoded.slice(colon + 1);
    const passwordDigest = digest(password);
    let matched: StoredUser | undefined;
    let ok = false;
    for (const u of this.#users) {
      const sameUser = timingSafeEqual(user, u.user);
      if (sameUser && matched === undefined) matched = u;
      if (u.password !== undefined)
        ok = (timingSafeEqual(passwordDigest, u.password) && sameUser) || ok;
    }
    if (matched?.scrypt !== undefined) {
      const h = matched.scrypt;
      ok = timingSafeEqual(scryptOf(password, h, h.hash.length), h.hash);
    }
    return ok && matched !== undefined ? { ok: true, user: matched.name } : this.#reject('INVALID');
  }
}
