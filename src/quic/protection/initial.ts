/**
 * Initial secrets (RFC 9001 §5.2): derived from the Destination Connection ID of the client's
 * first Initial packet, always with SHA-256 and AEAD_AES_128_GCM.
 */
import { hkdfExpandLabel, hkdfExtract } from '../../crypto/hkdf.js';
import { CipherSuite } from '../../crypto/suites.js';
import { fromHex } from '../../wire/index.js';
import { deriveKeys, type PacketKeys, QuicLabel } from './keys.js';

/** initial_salt of QUIC version 1 (RFC 9001 §5.2). */
export const QUIC_V1_INITIAL_SALT: Uint8Array = fromHex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');

/** The suite of every Initial packet (RFC 9001 §5: "Initial packets use AEAD_AES_128_GCM"). */
export const INITIAL_SUITE = CipherSuite.TLS_AES_128_GCM_SHA256;

/** The two directional Initial secrets. */
export interface InitialSecrets {
  /** client_initial_secret: protects packets the client sends. */
  readonly client: Uint8Array;
  /** server_initial_secret: protects packets the server sends. */
  readonly server: Uint8Array;
}

/**
 * `initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)`, then
 * "client in" / "server in" with HKDF-Expand-Label to 32 bytes (RFC 9001 §5.2).
 * `dcid` may be 0-20 bytes (zero after a Retry with an empty SCID).
 */
export function initialSecrets(
  dcid: Uint8Array,
  salt: Uint8Array = QUIC_V1_INITIAL_SALT,
): InitialSecrets {
  const initial = hkdfExtract('sha256', salt, dcid);
  const empty = new Uint8Array(0);
  return {
    client: hkdfExpandLabel('sha256', initial, QuicLabel.CLIENT_IN, empty, 32),
    server: hkdfExpandLabel('sha256', initial, QuicLabel.SERVER_IN, empty, 32),
  };
}

/** Client and server Initial keys for `dcid` in one call. */
export function initialKeys(
  dcid: Uint8Array,
  salt: Uint8Array = QUIC_V1_INITIAL_SALT,
): { client: PacketKeys; server: PacketKeys } {
  // The server derives them twice for each new connection: once to check that the Initial
  // decrypts before keeping any state, once in the connection it then creates. The last result
  // is kept (the keys are public: anyone who sees the DCID can derive them, RFC 9001 §5.2).
  const last = lastInitial;
  if (last !== undefined && last.salt === salt && equalBytes(last.dcid, dcid)) return last.keys;
  const s = initialSecrets(dcid, salt);
  const keys = {
    client: deriveKeys(s.client, INITIAL_SUITE),
    server: deriveKeys(s.server, INITIAL_SUITE),
  };
  lastInitial = { dcid: dcid.slice(), salt, keys };
  return keys;
}

let lastInitial:
  | { dcid: Uint8Array; salt: Uint8Array; keys: { client: PacketKeys; server: PacketKeys } }
  | undefined;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
