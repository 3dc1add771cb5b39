/**
 * The interop kit's vocabulary: a case is a named check run against any MASQUE proxy through our
 * SDK; its outcome is pass, fail, or unsupported (the proxy said, in its answer, that it does not
 * offer the feature: never counted as a failure).
 */
import type { MasqueClientOptions } from '../client/client.js';

/** What a case needs to reach: the proxy and the targets beyond it. */
export interface InteropContext {
  /** The proxy's URI template. */
  readonly template: string;
  /** Credentials and trust for the proxy. */
  readonly client: MasqueClientOptions;
  /** A UDP echo target reachable from the proxy ("host:port"). */
  readonly echo: string;
  /** The same on IPv6 ("[v6]:port"), when there is one. */
  readonly echo6?: string;
  /**
   * A reflector: a datagram naming "ip:port" is answered "ok", and makes it send "reflected" from
   * another port of its own to that address (a peer we did not dial, for bind).
   */
  readonly reflector?: string;
  /** An HTTP/3 server reachable from the proxy, serving `GET /hello` (QUIC-aware cases). */
  readonly h3Target?: string;
  /** Trust anchors of the HTTP/3 target's certificate (PEM). */
  readonly h3Ca?: string[];
  /** Per-case deadline (ms). */
  readonly timeoutMs: number;
  /** Write each case's key log (`CASE.keys`) and qlog (`CASE/`) here, for Wireshark and qvis. */
  readonly debugDir?: string;
  /** The case running (set by the runner; names the debugging files). */
  readonly caseName?: string;
}

export type CaseStatus = 'pass' | 'fail' | 'unsupported';

export interface CaseOutcome {
  readonly status: CaseStatus;
  /** One line: what was seen (or why it failed). */
  readonly detail: string;
}

export interface InteropCase {
  /** Stable name (drafts/interop.md lists them). */
  readonly name: string;
  /** connect-udp, bind or quic-aware. */
  readonly group: 'connect-udp' | 'bind' | 'quic-aware';
  /** One line. */
  readonly description: string;
  run(ctx: InteropContext): Promise<CaseOutcome>;
}

/** The result of one case in a run. */
export interface CaseResult extends CaseOutcome {
  readonly name: string;
  readonly group: string;
  readonly ms: number;
}

export const pass = (detail: string): CaseOutcome => ({ status: 'pass', detail });
export const fail = (detail: string): CaseOutcome => ({ status: 'fail', detail });
export const unsupported = (detail: string): CaseOutcome => ({ status: 'unsupported', detail });

/** "host:port" / "[v6]:port" → parts. */
export function hostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  if (m === null) throw new RangeError(`"${text}" is not host:port`);
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}
