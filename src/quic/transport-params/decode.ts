/**
 * Decoding and validation of a peer's transport parameters (RFC 9000 §7.4, §18).
 *
 *   Transport Parameter { Transport Parameter ID (i), Transport Parameter Length (i),
 *                         Transport Parameter Value (..) }
 *
 * Every failure is a `TransportError` with TRANSPORT_PARAMETER_ERROR: nothing is returned
 * before all parameters are validated.
 */
import { ByteReader } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { invalid, paramSpec } from './registry.js';
import type { DecodedTransportParameters, TransportParameterSender } from './types.js';

export function decodeTransportParameters(
  bytes: Uint8Array,
  sender: TransportParameterSender,
): DecodedTransportParameters {
  const out: DecodedTransportParameters = { unknown: [], order: [] };
  const fields = out as unknown as Record<string, unknown>;
  // Identifiers compared exactly: grease identifiers can exceed 2^53.
  const seen = new Set<bigint>();
  const r = new ByteReader(bytes);
  try {
    while (!r.done) {
      const id = r.varintBig();
      const value = r.bytes(r.varint());
      // RFC 9000 §7.4: "An endpoint SHOULD treat receipt of duplicate transport parameters as a
      // connection error of type TRANSPORT_PARAMETER_ERROR."
      if (seen.has(id)) throw invalid(`duplicate transport parameter 0x${id.toString(16)}`);
      seen.add(id);
      out.order.push(id);
      const spec = paramSpec(id);
      if (spec === undefined) {
        // RFC 9000 §7.4.2: "An endpoint MUST ignore transport parameters that it does not
        // support." Kept for diagnostics only.
        out.unknown.push({ id, value });
        continue;
      }
      // RFC 9000 §18.2: "A client MUST NOT include any server-only transport parameter ... A
      // server MUST treat receipt of any of these transport parameters as a connection error of
      // type TRANSPORT_PARAMETER_ERROR."
      if (spec.serverOnly && sender === 'client') {
        throw invalid(`${spec.name} sent by a client`);
      }
      const vr = new ByteReader(value);
      fields[spec.key] = spec.decode(vr, spec.name);
      vr.expectEnd(spec.name);
    }
  } catch (err) {
    throw TransportError.fromCodec(err, 0, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  }
  return out;
}
