/**
 * The `masque` command line: `proxy` (the default when no subcommand is given, so `npm start`
 * starts the proxy), `udp-forward`, `udp-bind` and `interop client` / `interop server`. `runCli` returns what is running (for the caller to stop
 * on a signal) or an exit code; it never calls `process.exit`, so tests run it in-process.
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/index.js';
import { clientCredentials } from './credentials.js';
import { addInteropCommands } from './interop-command.js';
import type { CliIO } from './io.js';
import { runProxy } from './proxy-command.js';
import { UdpBinder } from './udp-bind.js';
import { formatForwardStats, UdpForwarder } from './udp-forward.js';
import { packageVersion } from './version.js';

/** Something a command left running. */
export interface Running {
  /** What it is, for messages. */
  readonly name: string;
  /** A few live figures (tunnels open...), for tests and diagnostics. */
  status(): Record<string, number>;
  /** Reloads its configuration (SIGHUP), when it has one; never rejects. */
  reload?(): Promise<void>;
  /** Stops it gracefully. */
  close(): Promise<void>;
}

/** The outcome of {@link runCli}. */
export type CliResult = { exitCode: number } | { running: Running };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Parses `argv` (without node and the script) and runs the command. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<CliResult> {
  let result: CliResult = { exitCode: 0 };
  const program = new Command('masque')
    .description('MASQUE proxy (RFC 9298 connect-udp over HTTP/3) and its client tools')
    .version(packageVersion(), '-V, --version', 'print the version')
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
      '--workers <n>',
      'worker processes sharing the UDP port (SO_REUSEPORT, Node >= 22.12; default 1)',
      parseWorkers,
    )
    .option(
      '--max-udp-payload <bytes>',
      'ceiling of path MTU discovery for QUIC packets, 1200-65527 (default 1452); 1200 turns it off',
      parseUdpPayload,
    )
    .option(
      '--no-ack-frequency',
      'never ask clients for fewer ACKs (draft-ietf-quic-ack-frequency; their requests are still honoured)',
    )
    .action(async (flags) => {
      const cmd = await runProxy(flags, io);
      if (!('proxy' in cmd)) {
        // Worker processes (workers.ts): this process only watches them.
        result = {
          running: {
            name: 'proxy',
            status: () => ({ workers: cmd.workers, workersReady: cmd.ready }),
            reload: () => cmd.reload(),
            close: () => cmd.close(),
          },
        };
        return;
      }
      result = {
        running: {
          name: 'proxy',
          status: () => {
            const st = cmd.proxy.handler.stats();
            const refusals = Object.entries(st.rejected);
            return {
              tunnels: st.tunnelsActive,
              sockets: st.socketsOpen,
              tunnelsOpened: st.tunnelsOpened,
              refused: refusals.reduce((n, [, v]) => n + v, 0),
              authRefused: refusals.reduce((n, [k, v]) => n + (k.startsWith('AUTH_') ? v : 0), 0),
            };
          },
          reload: async () => {
            await cmd.reload();
          },
          close: () => cmd.close(),
        },
      };
    });

  withProxyTrust(program.command('udp-forward'))
    .description('forward a local UDP port through the proxy to one target')
    .requiredOption('--proxy <uri-template>', 'the proxy: its URI template or https://host:port')
    .requiredOption('--target <host:port>', 'where the datagrams go (resolved by the proxy)')
    .option('--listen <host:port>', 'local UDP address', '127.0.0.1:8053')
    .option(
      '--idle <ms>',
      'close a peer tunnel after this long without traffic',
      positiveInt,
      60_000,
    )
    .option(
      '--timeout <ms>',
      'deadline to reach the proxy and to open a tunnel',
      positiveInt,
      10_000,
    )
    .option(
      '--max-udp-payload <bytes>',
      'ceiling of path MTU discovery for QUIC packets, 1200-65527 (default 1452); 1200 turns it off',
      parseUdpPayload,
    )
    .option(
      '--max-tunnels <n>',
      'tunnels at most; past it the least recently used closes',
      positiveInt,
      1024,
    )
    .option(
      '--tunnels-per-connection <n>',
      'tunnels per connection to the proxy before another opens (the proxy allows 64 by default)',
      positiveInt,
      64,
    )
    .option(
      '--stats-interval <ms>',
      'print the counters this often (0: only on exit)',
      nonNegativeInt,
      60_000,
    )
    .option(
      '--datagrams <mode>',
      'auto (QUIC DATAGRAM frames when negotiated) or capsule (always DATAGRAM capsules, RFC 9297 §3.5)',
      parseDatagramsMode,
      'auto',
    )
    .option(
      '--transport <kind>',
      'h3 (HTTP/3, default), h2 (HTTP/2 over TCP, where UDP is blocked), h1 (HTTP/1.1 Upgrade over TCP, one connection per tunnel) or auto (HTTP/3, HTTP/2 if it does not connect quickly)',
      parseTransport,
      'h3',
    )
    .option(
      '--quic-aware',
      'the local program speaks QUIC: register its connection IDs and use forwarded mode (draft-ietf-masque-quic-proxy)',
    )
    .action(async (o) => {
      const fwd = await UdpForwarder.start({
        proxy: o.proxy,
        listen: o.listen,
        target: o.target,
        ca: o.ca === undefined ? undefined : [await readFile(o.ca, 'utf8')],
        pinnedSha256: o.pin === undefined ? undefined : [o.pin],
        insecure: o.insecure === true ? true : undefined,
        auth: await clientCredentials(o, io.env),
        idleMs: o.idle,
        timeoutMs: o.timeout,
        maxUdpPayload: o.maxUdpPayload,
        datagrams: o.datagrams,
        maxTunnels: o.maxTunnels,
        tunnelsPerConnection: o.tunnelsPerConnection,
        quicAware: o.quicAware === true,
        transport: o.transport,
        onProblem: (m) => io.stderr(`udp-forward: ${m}\n`),
      });
      io.stdout(`udp-forward: ${fwd.address} -> ${o.target} through ${o.proxy}\n`);
      const report = (): void => io.stderr(`udp-forward: ${formatForwardStats(fwd.stats())}\n`);
      const every: number = o.statsInterval;
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

  withProxyTrust(program.command('udp-bind'))
    .description(
      'bind a UDP port on the proxy (connect-udp-bind) for a local app: each remote peer appears to the app as a local port of its own',
    )
    .requiredOption('--proxy <uri-template>', 'the proxy: its URI template or https://host:port')
    .requiredOption('--local <host:port>', 'the local UDP application peers are relayed to')
    .option(
      '--peer <ip:port>',
      'a peer to open a local port for at start (repeatable)',
      collect,
      [],
    )
    .option('--firewall', 'only the --peer peers get through (no uncompressed context)')
    .option(
      '--max-peers <n>',
      'local ports at most; past it the least recently used closes',
      positiveInt,
      256,
    )
    .option(
      '--idle <ms>',
      'close a peer’s local port after this long without traffic',
      positiveInt,
      120_000,
    )
    .option(
      '--compress-after <n>',
      'compress a peer after this many datagrams (0: never)',
      nonNegativeInt,
      8,
    )
    .option(
      '--wire <form>',
      'compression capsules: final (0x11-0x13) or legacy (before -10)',
      parseWire,
      'final',
    )
    .option('--timeout <ms>', 'deadline to reach the proxy and to bind', positiveInt, 10_000)
    .option(
      '--transport <kind>',
      'h3 (HTTP/3, default), h2 (HTTP/2 over TCP, where UDP is blocked), h1 (HTTP/1.1 Upgrade over TCP, one connection per tunnel) or auto (HTTP/3, HTTP/2 if it does not connect quickly)',
      parseTransport,
      'h3',
    )
    .option('--json', 'print JSON lines: the public addresses first, then each new peer')
    .action(async (o) => {
      const json = o.json === true;
      // Peers named with --peer are in the first line; later ones get a line each.
      let started = false;
      const binder = await UdpBinder.start({
        proxy: o.proxy,
        local: o.local,
        peers: o.peer,
        firewall: o.firewall === true,
        transport: o.transport,
        ca: o.ca === undefined ? undefined : [await readFile(o.ca, 'utf8')],
        pinnedSha256: o.pin === undefined ? undefined : [o.pin],
        insecure: o.insecure === true ? true : undefined,
        auth: await clientCredentials(o, io.env),
        maxPeers: o.maxPeers,
        idleMs: o.idle,
        compressAfter: o.compressAfter,
        wire: o.wire,
        timeoutMs: o.timeout,
        onPeer: (peer, local) => {
          if (!started) return;
          if (json) io.stdout(`${JSON.stringify({ peer, local })}\n`);
          else io.stderr(`udp-bind: peer ${peer} is ${local}\n`);
        },
        onProblem: (m) => io.stderr(`udp-bind: ${m}\n`),
      });
      const pub = binder.publicAddresses;
      io.stdout(
        json
          ? `${JSON.stringify({ public: pub, local: o.local, peers: binder.peers() })}\n`
          : `udp-bind: ${pub.join(' ')} -> ${o.local} through ${o.proxy}\n`,
      );
      if (!json)
        for (const p of binder.peers()) io.stderr(`udp-bind: peer ${p.peer} is ${p.local}\n`);
      started = true;
      result = {
        running: {
          name: 'udp-bind',
          status: () => ({ ...binder.stats() }),
          close: () => binder.close(),
        },
      };
    });

  addInteropCommands(
    program,
    io,
    (o) => clientCredentials(o, io.env),
    (r) => {
      result = r;
    },
  );

  const unknown = unknownCommand(argv);
  if (unknown !== undefined) {
    io.stderr(unknown);
    return { exitCode: 1 };
  }
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

function parseInteger(value: string, min: number): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(
      min === 0 ? 'must be a whole number (0 or more)' : 'must be a whole number, 1 or more',
    );
  }
  return n;
}

/** A count or a duration in ms: 1 or more. */
function positiveInt(value: string): number {
  return parseInteger(value, 1);
}

/** A count or a duration in ms where 0 means off. */
function nonNegativeInt(value: string): number {
  return parseInteger(value, 0);
}

const COMMANDS = ['proxy', 'udp-forward', 'udp-bind', 'interop'];

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * A first argument that is no option and no command: without this, the default command (proxy)
 * would take it and complain about the options that follow instead.
 */
function unknownCommand(argv: readonly string[]): string | undefined {
  const first = argv[0];
  if (first === undefined || first.startsWith('-') || COMMANDS.includes(first)) return undefined;
  if (first === 'help') return undefined;
  const near = COMMANDS.filter((c) => distance(first, c) <= 3).sort(
    (x, y) => distance(first, x) - distance(first, y),
  );
  const hint = near.length > 0 ? ` (did you mean ${near[0]}?)` : '';
  return `masque: unknown command '${first}'${hint}; the commands are ${COMMANDS.join(', ')} (masque --help)\n`;
}

function parseTransport(value: string): 'h3' | 'h2' | 'h1' | 'auto' {
  if (value === 'h3' || value === 'h2' || value === 'h1' || value === 'auto') return value;
  throw new InvalidArgumentError('expected h3, h2, h1 or auto');
}

function parseWire(value: string): 'final' | 'legacy' {
  if (value === 'final' || value === 'legacy') return value;
  throw new InvalidArgumentError('expected final or legacy');
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

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > 256) {
    throw new InvalidArgumentError('must be an integer from 1 to 256');
  }
  return n;
}

/** How a client command trusts the proxy and proves itself to it (udp-forward, udp-bind). */
function withProxyTrust(cmd: Command): Command {
  return cmd
    .option('--ca <file>', 'trust this CA / self-signed certificate (PEM)')
    .option('--pin <sha256>', 'trust the certificate whose SPKI SHA-256 is this (base64)')
    .option('--insecure', 'accept any certificate (development only)')
    .option('--bearer <token>', 'proxy credentials: Bearer token (or MASQUE_BEARER)')
    .option('--bearer-file <file>', 'proxy credentials: Bearer token, the first line of this file')
    .option('--basic <user:password>', 'proxy credentials: Basic (or MASQUE_BASIC)')
    .option(
      '--basic-file <file>',
      'proxy credentials: Basic user:password, the first line of this file',
    );
}
