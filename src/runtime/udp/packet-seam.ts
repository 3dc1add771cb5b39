/**
 * The packet seam of a running endpoint: what MASQUE forwarded mode (draft-ietf-masque-quic-proxy)
 * and loop detection need below HTTP/3, on the socket the QUIC connections use.
 *
 * - Claims: the `claimDatagram` option (on `H3ServerOptions` / `UdpEndpointOptions`) sees every
 *   datagram before connection lookup and may take it over; `claimCid` routes one Destination
 *   Connection ID to a handler instead of a connection (checked after the hook, before
 *   connections). A claimed CID meant for short headers must be `localCidLength` bytes long,
 *   since short headers carry no CID length (RFC 9000 §5.2, §17.3).
 * - `isCidRouted`: whether a CID belongs to a live connection or a claim here (a forwarded packet
 *   that would come back to us is a loop).
 * - `sendRaw`: sends a datagram from this socket, outside any connection; it leaves at once, or
 *   right after the input being processed when called from a claim handler.
 *
 * Handlers run synchronously inside the socket's receive path; the datagram view is theirs to
 * keep (the socket hands each datagram a fresh buffer) but should be copied if modified and kept.
 */
import type { ClaimedCidHandler } from '../../quic/endpoint/index.js';

export interface PacketSeam {
  /** Length of the CIDs this endpoint's connections issue (short headers are parsed with it). */
  readonly localCidLength: number;
  /** Routes datagrams whose DCID is `cid` to `handler` instead of a connection. */
  claimCid(cid: Uint8Array, handler: ClaimedCidHandler): void;
  /** Undoes {@link PacketSeam.claimCid}. */
  unclaimCid(cid: Uint8Array): void;
  /** True when a live connection or a claim routes `cid` here. */
  isCidRouted(cid: Uint8Array): boolean;
  /** Sends `data` to `to` ("host:port" / "[v6]:port") from this endpoint's socket. */
  sendRaw(data: Uint8Array, to: string): void;
}
