/**
 * The `masque` command line: `proxy` (the default when no subcommand is given, so `npm start`
 * starts the proxy) and `udp-forward`. `runCli` returns what is running (for the caller to stop
 * on a signal) or an exit code; it never calls `process.exit`, so tests run it in-process.
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { MasqueAuth } from '../client/client.js';
import { ConfigError } from '../config/index.js';
import type { CliIO } from './io.js';
import { runProxy } from './proxy-command.js';
import { formatForwardStats, UdpForwarder } from './udp-forward.js';

/** Something a command left running. */
export interface Running {
  /** What it is, for messages. */
  readonly name: string;
  /** A few live figures (tunnels open...), for tests and diagnostics. */
  status(): Record<string, number>;
  close(): Promise<void>;
}

/** The outcome of {@link runCli}. */
export type CliResult = { exitCode: number } | { running: Running };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function auth(o: { bearer?: string; basic?: string }): MasqueAuth | undefined {
  if (o.bearer !== undefined) return { bearer: o.bearer };
  if (o.basic === undefined) return undefined;
  const colon = o.basic.indexOf(':');
  if (colon < 0) throw new RangeError('--basic takes user:password');
  return { username: o.basic.slice(0, colon), password: o.basic.slice(colon + 1) };
}

/** Parses `argv` (without node and the script) and runs the command. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<CliResult> {
  let result: CliResult = { exitCode: 0 };
  const program = new Command('masque')
    .description('MASQUE proxy (RFC 9298 connect-udp over HTTP/3) and its client tools')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command('proxy', { isDefault: true })
    .description('run the connect-udp proxy (default: 127.0.0.1:4433, development certificate)')
    .option('-c, --config <file>', 'JSON configuration file')
    .option('-l, --listen <host:port>', 'address to listen on (UDP)')
    .option('--allow-target <CIDR[:PORTS]>', 'allow targets (repeatable)', collect, [])
    .option('--deny-target <CIDR[:PORTS]>', 'deny targets (repeatable)', collect, [])
    .option('--metrics <host:port>', 'serve Prometheus metrics on http://host:port/metrics')
    .option('--template <uri-template>', 'URI template to serve (RFC 9298 §2)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--qlog-dir <dir>', 'write one qlog file per QUIC connection (for qvis)')
    .option(
      '--max-udp-payload <bytes>',
      'ceiling of path MTU discovery for QUIC packets, 1200-65527 (default 1452); 1200 turns it off',
      parseUdpPayload,
    )
    .action(async (flags) => {
      const proxy = await runProxy(flags, io);
      result = {
        running: {
          name: 'proxy',
          status: () => ({
            tunnels: proxy.handler.stats().tunnelsActive,
            sockets: proxy.handler.stats().socketsOpen,
          }),
          close: () => proxy.close(),
        },
      };
    });

  program
    .command('udp-forward')
    .description('forward a local UDP port through the proxy to one target')
    .requiredOption('--proxy <uri-template>', 'the proxy: its URI template or https://host:port')
    .requiredOption('--target <host:port>', 'where the datagrams go (resolved by the proxy)')
    .option('--listen <host:port>', 'local UDP address', '127.0.0.1:5353')
    .option('--ca <file>', 'trust this CA / self-signed certificate (PEM)')
    .option('--pin <sha256>', 'trust the certificate whose SPKI SHA-256 is this (base64)')
    .option('--insecure', 'accept any certificate (development only)')
    .option('--bearer <token>', 'proxy credentials: Bearer token')
    .option('--basic <user:password>', 'proxy credentials: Basic')
    .option('--idle <ms>', 'close a peer tunnel after this long without traffic', '60000')
    .option('--timeout <ms>', 'deadline to reach the proxy and to open a tunnel', '10000')
    .option(
      '--max-udp-payload <bytes>',
      'ceiling of path MTU discovery for QUIC packets, 1200-65527 (default 1452); 1200 turns it off',
      parseUdpPayload,
    )
    .option('--max-tunnels <n>', 'tunnels at most; past it the least recently used closes', '1024')
    .option(
      '--tunnels-per-connection <n>',
      'tunnels per connection to the proxy before another opens (the proxy allows 64 by default)',
      '64',
    )
    .option('--stats-interval <ms>', 'print the counters this often (0: only on exit)', '60000')
    .option(
      '--datagrams <mode>',
      'auto (QUIC DATAGRAM frames when negotiated) or capsule (always DATAGRAM capsules, RFC 9297 §3.5)',
      parseDatagramsMode,
      'auto',
    )
    .action(async (o) => {
      const fwd = await UdpForwarder.start({
        proxy: o.proxy,
        listen: o.listen,
        target: o.target,
        ca: o.ca === undefined ? undefined : [await readFile(o.ca, 'utf8')],
        pinnedSha256: o.pin === undefined ? undefined : [o.pin],
        insecure: o.insecure === true ? true : undefined,
        auth: auth(o),
        idleMs: Number(o.idle),
        timeoutMs: Number(o.timeout),
        maxUdpPayload: o.maxUdpPayload,
        datagrams: o.datagrams,
        maxTunnels: Number(o.maxTunnels),
        tunnelsPerConnection: Number(o.tunnelsPerConnection),
        onProblem: (m) => io.stderr(`udp-forward: ${m}\n`),
      });
      io.stdout(`udp-forward: ${fwd.address} -> ${o.target} through ${o.proxy}\n`);
      const report = (): void => io.stderr(`udp-forward: ${formatForwardStats(fwd.stats())}\n`);
      const every = Number(o.statsInterval);
      const timer = every > 0 ? setInterval(report, every) : undefined;
      timer?.unref();
      result = {
        running: {
          name: 'udp-forward',
          status: () => ({ tunnels: fwd.tunnels }),
          close: async () => {
            clearInterval(timer);
            await fwd.close();
            report();
          },
        },
      };
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return { exitCode: err.exitCode };
    }
    if (err instanceof ConfigError) {
      io.stderr(`masque: ${err.message}\n`);
      return { exitCode: 1 };
    }
    io.stderr(`masque: ${err instanceof Error ? err.message : String(err)}\n`);
    return { exitCode: 1 };
  }
  return result;
}

function parseDatagramsMode(value: string): 'auto' | 'capsule' {
  if (value === 'auto' || value === 'capsule') return value;
  throw new InvalidArgumentError('expected auto or capsule');
}

/**
 * `--max-udp-payload`: the PMTU discovery ceiling, an integer in 1200..65527 (RFC 9000 §14: at
 * least 1200; §18.2: at most 65527).
 */
function parseUdpPayload(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1200 || n > 65_527) {
    throw new InvalidArgumentError('must be an integer from 1200 to 65527');
  }
  return n;
}
