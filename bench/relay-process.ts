/**
 * The plain node:dgram relay (bench/udp-relay.ts `relaySockets`) in a process of its own, so that
 * its CPU per echo can be read from /proc beside the proxy's (bench/proxy-cpu.bench.ts). Argument:
 * the echo target's port; answers its own port over IPC; ends with its parent.
 */
import { relaySockets } from './udp-relay.js';

const { port } = await relaySockets(Number(process.argv[2]));
process.send?.({ port });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
