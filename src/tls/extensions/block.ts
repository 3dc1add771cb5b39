/**
 * Extension blocks (RFC 9846 §4.2):
 *
 *   struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } Extension;
 *   Extension extensions<min..2^16-1>;
 *
 * Rules enforced here, symmetrically on decode (alert to the peer) and encode (internal_error):
 * no type twice in one block, a recognised type only in the messages the RFC's table lists,
 * pre_shared_key last in a ClientHello, and every interpreted body consumed exactly.
 */
import { ByteReader, type ByteWriter } from '../../wire/index.js';
import { type AlertName, decodeGuard, TlsAlertError } from '../alert.js';
import { checkU16, readOpaque } from '../codec.js';
import {
  decodeBody,
  encodeBody,
  extensionAllowedIn,
  isInterpreted,
  KIND_TYPE,
  type KnownKind,
} from './registry.js';
import { type Extension, type ExtensionContext, ExtensionType } from './types.js';

/** Checks the block-level rules on the sequence of extension types of one block. */
function checkOrder(types: readonly number[], ctx: ExtensionContext, alert: AlertName): void {
  const seen = new Set<number>();
  for (let i = 0; i < types.length; i++) {
    const type = types[i];
    if (seen.has(type)) {
      // RFC 9846 §4.2: "There MUST NOT be more than one extension of the same type in a given
      // extension block." No alert is named there; a repeated type is well-formed syntax with a
      // forbidden meaning, which §6 answers with "illegal_parameter".
      throw new TlsAlertError(alert, `extension ${type} appears twice in ${ctx}`);
    }
    seen.add(type);
    if (!extensionAllowedIn(type, ctx)) {
      // RFC 9846 §4.2: an extension "not specified for the message in which it appears" MUST
      // abort the handshake with an "illegal_parameter" alert.
      throw new TlsAlertError(alert, `extension ${type} is not allowed in ${ctx}`);
    }
    if (type === ExtensionType.pre_shared_key && ctx === 'client_hello' && i !== types.length - 1) {
      // RFC 9846 §4.2.11: "The pre_shared_key extension MUST be the last extension in the
      // ClientHello ... Servers MUST check that it is the last extension and otherwise fail the
      // handshake with an illegal_parameter alert."
      throw new TlsAlertError(alert, 'pre_shared_key is not the last ClientHello extension');
    }
  }
}

/** Reads a u16-length extension block of at least `minLength` bytes. */
export function readExtensions(r: ByteReader, ctx: ExtensionContext, minLength = 0): Extension[] {
  return decodeGuard(`${ctx} extensions`, () => readBlock(r, ctx, minLength));
}

function readBlock(r: ByteReader, ctx: ExtensionContext, minLength: number): Extension[] {
  const raw: { type: number; data: Uint8Array }[] = [];
  const block = new ByteReader(readOpaque(r, 2, minLength, 0xffff, 'extensions'));
  while (!block.done) {
    const type = block.u16();
    raw.push({ type, data: readOpaque(block, 2, 0, 0xffff, 'extension_data') });
  }
  checkOrder(
    raw.map((e) => e.type),
    ctx,
    'illegal_parameter',
  );
  return raw.map(({ type, data }) => {
    if (!isInterpreted(type)) return { kind: 'unknown', type, data };
    const body = new ByteReader(data);
    const ext = decodeBody(type, body, ctx);
    // RFC 9846 §4.2: "receivers MUST abort the handshake with a decode_error alert if there is
    // data left over after parsing the structure."
    if (!body.done) {
      throw new TlsAlertError(
        'decode_error',
        `extension ${type}: ${body.remaining} trailing bytes`,
      );
    }
    return ext;
  });
}

/** The wire type of an extension value. */
export function extensionTypeOf(ext: Extension): number {
  return ext.kind === 'unknown' ? ext.type : KIND_TYPE[ext.kind as KnownKind];
}

/** Writes a u16-length extension block; throws internal_error if it breaks the block rules. */
export function writeExtensions(
  w: ByteWriter,
  exts: readonly Extension[],
  ctx: ExtensionContext,
  minLength = 0,
): void {
  const types = exts.map(extensionTypeOf);
  for (const ext of exts) {
    if (ext.kind !== 'unknown') continue;
    checkU16(ext.type, 'extension_type');
    if (isInterpreted(ext.type)) {
      throw new TlsAlertError(
        'internal_error',
        `extension ${ext.type} must be given in its decoded form, not as unknown`,
      );
    }
  }
  checkOrder(types, ctx, 'internal_error');
  const start = w.position;
  w.lengthPrefixed('u16', (x) => {
    for (let i = 0; i < exts.length; i++) {
      const ext = exts[i];
      x.u16(types[i]);
      x.lengthPrefixed('u16', (y) => {
        if (ext.kind === 'unknown') y.bytes(ext.data);
        else encodeBody(y, ext, ctx);
      });
    }
  });
  const len = w.position - start - 2;
  if (len < minLength) {
    throw new TlsAlertError('internal_error', `extensions: ${len} bytes, below ${minLength}`);
  }
}

/** The extension of a given kind in a block, typed by kind, or undefined. */
export function findExtension<K extends Extension['kind']>(
  exts: readonly Extension[],
  kind: K,
): Extract<Extension, { kind: K }> | undefined {
  for (const e of exts) if (e.kind === kind) return e as Extract<Extension, { kind: K }>;
  return undefined;
}

/** The opaque extension of an uninterpreted type, or undefined. */
export function findUnknownExtension(
  exts: readonly Extension[],
  type: number,
): Extract<Extension, { kind: 'unknown' }> | undefined {
  for (const e of exts) if (e.kind === 'unknown' && e.type === type) return e;
  return undefined;
}
