/** The Node.js driver: one UDP socket and one timer around the sans-IO QUIC endpoint. */
export { formatAddress, type ParsedAddress, parseAddress } from './address.js';
export { bindUdpSocket, type DatagramSocket } from './datagram-socket.js';
export { keylogFile, keylogFromEnv } from './keylog.js';
export type { PacketSeam } from './packet-seam.js';
export { QlogDirectory, type QlogRecord, type QlogSink } from './qlog.js';
export { UdpEndpoint, type UdpEndpointOptions } from './udp-endpoint.js';
