/** Small shared pieces of the client and server handshakes: names, defaults, extension checks. */
import { CipherSuite } from '../../crypto/index.js';
import { TlsAlertError } from '../alert.js';
import { extensionTypeOf } from '../extensions/index.js';
import type { Extension } from '../extensions/types.js';
import { type GroupName, SUPPORTED_GROUPS } from './key-exchange.js';
import type { QuicCipherSuiteName } from './types.js';

export const DEFAULT_SUITES: readonly QuicCipherSuiteName[] = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

export const DEFAULT_GROUPS: readonly GroupName[] = ['x25519', 'secp256r1'];

/** Code points of configured suites (defaults when absent or empty). */
export function suiteIds(names: readonly QuicCipherSuiteName[] | undefined): number[] {
  const list = names && names.length > 0 ? names : DEFAULT_SUITES;
  return list.map((n) => {
    const id = CipherSuite[n];
    if (id === undefined) throw new RangeError(`unknown cipher suite ${n}`);
    return id;
  });
}

/** Code points of configured groups (defaults when absent or empty). */
export function groupIds(names: readonly GroupName[] | undefined): number[] {
  const list = names && names.length > 0 ? names : DEFAULT_GROUPS;
  return list.map((n) => {
    const id = SUPPORTED_GROUPS[n];
    if (id === undefined) throw new RangeError(`unknown group ${n}`);
    return id;
  });
}

/**
 * RFC 9846 §4.2: "Implementations MUST NOT send extension responses ... if the remote endpoint
 * did not send the corresponding extension requests, with the exception of the "cookie"
 * extension in the HelloRetryRequest. Upon receiving such an extension, an endpoint MUST abort
 * the handshake with an "unsupported_extension" alert."
 */
export function checkSolicited(
  exts: readonly Extension[],
  offered: ReadonlySet<number>,
  where: string,
  allow?: number,
): void {
  for (const e of exts) {
    const type = extensionTypeOf(e);
    if (!offered.has(type) && type !== allow) {
      throw new TlsAlertError(
        'unsupported_extension',
        `${where} carries unrequested extension ${type}`,
      );
    }
  }
}
