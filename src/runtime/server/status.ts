/**
 * The built-in status endpoint (`GET /.well-known/masque/status` by default): a tiny JSON
 * document with the server's uptime and counters, for health checks and tests.
 */

/** Counters the server keeps. */
export interface H3ServerStats {
  /** When the server started listening (ms on the server's clock). */
  readonly startedAt: number;
  /** Connections open now, and accepted since the start. */
  readonly connections: number;
  readonly connectionsTotal: number;
  /** Requests in progress now (exchanges and CONNECT sessions), and received since the start. */
  readonly requestsActive: number;
  readonly requestsTotal: number;
  /** Extended CONNECT sessions open now. */
  readonly connectSessions: number;
  /** Bytes of incomplete request header sections held now, over every connection. */
  readonly incompleteHeaderBytes: number;
  /** Request streams reset for holding too many incomplete header bytes (H3_EXCESSIVE_LOAD). */
  readonly headerRefusals: number;
  /** Request streams reset because their header section was late (H3_REQUEST_INCOMPLETE). */
  readonly headerTimeouts: number;
}

/** The JSON body of the status endpoint. */
export function statusDocument(stats: H3ServerStats, now: number): string {
  return JSON.stringify({
    status: 'ok',
    uptimeSeconds: Math.max(0, Math.round((now - stats.startedAt) / 1000)),
    connections: { current: stats.connections, total: stats.connectionsTotal },
    requests: { active: stats.requestsActive, total: stats.requestsTotal },
    connectSessions: stats.connectSessions,
  });
}
