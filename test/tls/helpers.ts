/** Small helpers shared by the TLS tests. */
import { TlsAlertError } from '../../src/tls/index.js';
import { ByteWriter, fromHex } from '../../src/wire/index.js';

/** The alert name `fn` throws, or undefined if it returns; any other error is rethrown. */
export function alertOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof TlsAlertError) return e.alertName;
    throw e;
  }
}

/** A u16-length extension block from [type, hex extension_data] pairs. */
export function rawBlock(...exts: [number, string][]): Uint8Array {
  const w = new ByteWriter();
  w.lengthPrefixed('u16', (x) => {
    for (const [type, hex] of exts) x.u16(type).vec16(fromHex(hex));
  });
  return w.toBytes();
}

/**
 * A canonical string for deep comparison (sorted keys, bytes as hex, undefined fields dropped):
 * much cheaper than `toEqual` inside property loops.
 */
export function canon(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return v;
  });
}
