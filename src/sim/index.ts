export { Bandwidth, Delay, Drop, Duplicate, Mtu, Nat, Reorder } from './links.js';
export { Network, type RunLimits, type RunResult } from './network.js';
export type { LinkElement, SimDatagram, SimNode } from './types.js';
