/**
 * SSLKEYLOGFILE support: NSS key log lines (`CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>`,
 * ...) appended to a file that Wireshark/tshark read to decrypt QUIC. Connections produce the
 * lines through their `keylog` callback; this is the sink.
 */
import { appendFileSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * A sink appending each line to `path` (created if missing, readable by its owner only: the
 * lines decrypt the traffic; an existing file keeps its mode). Synchronous appends keep lines
 * whole and ordered; a handful per handshake costs nothing. Write failures are logged once and
 * never reach the connection.
 */
export function keylogFile(path: string, logger?: Logger): (line: string) => void {
  let warned = false;
  return (line: string): void => {
    try {
      appendFileSync(path, line.endsWith('\n') ? line : `${line}\n`, { mode: 0o600 });
    } catch (err) {
      if (!warned) logger?.warn({ err, path }, 'cannot write the key log');
      warned = true;
    }
  };
}

/** `keylogFile(process.env.SSLKEYLOGFILE)` when the variable is set. */
export function keylogFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  logger?: Logger,
): ((line: string) => void) | undefined {
  const path = env.SSLKEYLOGFILE;
  return path ? keylogFile(path, logger) : undefined;
}
