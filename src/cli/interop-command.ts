/**
 * `masque interop client` and `masque interop server`: the hackathon kit (src/kit). The client
 * runs named cases against any proxy and prints the matrix (a table, `--markdown`, or JSON lines
 * with `--json`), exiting 0 only when no selected case failed (unsupported is not a failure). The
 * server starts a proxy with every mode and profile on, plus its targets, and prints its card.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import type { MasqueAuth } from '../client/client.js';
import {
  ALL_CASES,
  allPassed,
  formatJsonLines,
  formatMarkdown,
  formatTable,
  runCases,
  selectCases,
} from '../kit/runner.js';
import { startInteropServer } from '../kit/server.js';
import type { CliIO } from './io.js';
import type { CliResult } from './program.js';
import { proxyTemplate } from './udp-forward.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** Adds `interop client` and `interop server` to `program`; `set` records the outcome. */
export function addInteropCommands(
  program: Command,
  io: CliIO,
  auth: (o: { bearer?: string; basic?: string }) => Promise<MasqueAuth | undefined>,
  set: (r: CliResult) => void,
): void {
  const interop = program
    .command('interop')
    .description('the interop kit: run cases against a proxy, or be tested');

  interop
    .command('client')
    .description(`run interop cases against a proxy (${ALL_CASES.length} cases; --list shows them)`)
    .option('--proxy <uri-template>', 'the proxy: its URI template or https://host:port')
    .option('--echo <host:port>', 'a UDP echo target the proxy can reach')
    .option('--echo6 <[v6]:port>', 'the same on IPv6')
    .option('--reflector <host:port>', 'a reflector target (see `masque interop server`)')
    .option('--h3-target <host:port>', 'an HTTP/3 server answering GET /hello (QUIC-aware cases)')
    .option('--h3-ca <file>', 'trust anchor of the HTTP/3 target (default: accept any certificate)')
    .option(
      '--cases <names>',
      'comma-separated case names or groups (connect-udp, bind, quic-aware)',
    )
    .option('--list', 'list the cases and exit')
    .option('--json', 'JSON lines, one per case')
    .option('--markdown', 'a Markdown table for an interop sheet')
    .option('--ca <file>', 'trust this CA / self-signed certificate (PEM) for the proxy')
    .option('--insecure', 'accept any certificate from the proxy')
    .option('--bearer <token>', 'proxy credentials: Bearer token')
    .option('--basic <user:password>', 'proxy credentials: Basic')
    .option('--timeout <ms>', 'deadline of each step of a case', positive, 5000)
    .option('--debug-dir <dir>', "write each case's key log (CASE.keys) and qlog (CASE/) there")
    .action(async (o) => {
      if (o.list === true) {
        for (const c of ALL_CASES)
          io.stdout(`${c.name.padEnd(26)} ${c.group.padEnd(12)} ${c.description}\n`);
        set({ exitCode: 0 });
        return;
      }
      if (o.proxy === undefined || o.echo === undefined) {
        throw new InvalidArgumentError(
          '--proxy and --echo are required (see `masque interop server` for targets)',
        );
      }
      const template = proxyTemplate(o.proxy);
      const cases = selectCases(o.cases === undefined ? undefined : String(o.cases).split(','));
      const results = await runCases(
        {
          template,
          client: {
            ca: o.ca === undefined ? undefined : [await readFile(o.ca, 'utf8')],
            insecure: o.insecure === true ? true : undefined,
            auth: await auth(o),
          },
          echo: o.echo,
          echo6: o.echo6,
          reflector: o.reflector,
          h3Target: o.h3Target,
          h3Ca: o.h3Ca === undefined ? undefined : [await readFile(o.h3Ca, 'utf8')],
          timeoutMs: o.timeout,
          debugDir: o.debugDir,
        },
        cases,
        (r) => {
          if (o.json === true) io.stdout(formatJsonLines([r]));
          else if (o.markdown !== true) io.stderr(`${r.name}: ${r.status}\n`);
        },
      );
      if (o.markdown === true) io.stdout(formatMarkdown(results, template));
      else if (o.json !== true) io.stdout(formatTable(results));
      set({ exitCode: allPassed(results) ? 0 : 1 });
    });

  interop
    .command('server')
    .description(
      'start a proxy with every mode and wire profile on, plus targets, and print its card',
    )
    .option('-l, --listen <host:port>', 'the proxy address', '127.0.0.1:4433')
    .option('--target-host <ip>', 'address the targets bind to (loopback unless told)', '127.0.0.1')
    .action(async (o) => {
      // The proxy's access log and refusals, so that a peer's failing case can be read here.
      const server = await startInteropServer({
        listen: o.listen,
        targetHost: o.targetHost,
        logger: io.logger ?? pino({ level: process.env.MASQUE_LOG ?? 'info' }, pino.destination(2)),
      });
      io.stdout(server.card);
      set({
        running: {
          name: 'interop server',
          status: () => ({ tunnels: server.proxy.handler.stats().tunnelsActive }),
          close: () => server.close(),
        },
      });
    });
}
