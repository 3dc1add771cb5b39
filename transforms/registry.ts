/**
 * Packet transforms by wire name (quic-proxy §"Packet Transform Names"), and the choice of one
 * from a client's `accept-transform` list.
 *
 * The scramble transform is registered as "scramble-dt" only. quic-proxy §"The scramble
 * transform": "Deployments that implement the version of the `scramble` transform defined in this
 * document MUST use the value "scramble-dt". The finalized version is expected to use the
 * reserved value "scramble"." The plain name "scramble" is reserved for a final design that may
 * differ from this one; answering to it could pair us with a peer running an incompatible
 * algorithm, and both sides would silently exchange garbage. An offer of "scramble" is therefore
 * treated like any unknown name: skipped during negotiation.
 */
import { IdentityTransform } from './identity.js';
import { ScrambleTransform } from './scramble.js';
import { type PacketTransform, TransformError, type TransformOptions } from './types.js';

/** The wire names this implementation knows. */
export const TransformName = {
  /** quic-proxy §"The identity transform". */
  identity: 'identity',
  /** quic-proxy §"The scramble transform", design-team version. */
  scrambleDt: 'scramble-dt',
} as const;
export type TransformName = (typeof TransformName)[keyof typeof TransformName];

/** Reserved by quic-proxy for the final scramble design; deliberately not registered. */
export const RESERVED_SCRAMBLE_NAME = 'scramble';

type Factory = (opts: TransformOptions) => PacketTransform;

const FACTORIES: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  [TransformName.scrambleDt, (opts) => new ScrambleTransform(opts.key as Uint8Array)],
  [TransformName.identity, () => new IdentityTransform()],
]);

/** Transforms that need a `scramble-key` (quic-proxy: "MUST add it to the ... header"). */
const KEYED: ReadonlySet<string> = new Set([TransformName.scrambleDt]);

/**
 * Our supported names in our order of preference: scramble first, since identity is NOT
 * RECOMMENDED when both sides support scramble (quic-proxy §"The identity transform").
 */
export function supportedTransforms(): readonly TransformName[] {
  return [TransformName.scrambleDt, TransformName.identity];
}

export function isSupportedTransform(name: string): name is TransformName {
  return FACTORIES.has(name);
}

/** Whether the transform needs a key exchanged in the `scramble-key` parameter. */
export function transformNeedsKey(name: string): boolean {
  return KEYED.has(name);
}

/**
 * Builds one direction of a transform. For scramble, pass our own key to build the sender and
 * the peer's key to build the receiver. Throws UNKNOWN_TRANSFORM or BAD_KEY.
 */
export function createTransform(name: string, opts: TransformOptions = {}): PacketTransform {
  const factory = FACTORIES.get(name);
  if (!factory) throw new TransformError('UNKNOWN_TRANSFORM', `no transform named "${name}"`);
  return factory(opts);
}

/**
 * The proxy's choice: the first name in the client's `accept` list (descending preference,
 * quic-proxy §"Proxy-QUIC-Forwarding Header") that is also in `supported` (default: all we
 * implement; pass a narrower list to apply policy, e.g. refuse identity). `undefined` when none
 * matches, in which case the proxy "MUST omit this parameter and set the header field value to
 * ?0, or omit the header entirely".
 */
export function negotiateTransform(
  accept: readonly string[],
  supported: readonly string[] = supportedTransforms(),
): TransformName | undefined {
  for (const name of accept) {
    if (supported.includes(name) && isSupportedTransform(name)) return name;
  }
  return undefined;
}
