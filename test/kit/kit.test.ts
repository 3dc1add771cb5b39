/**
 * The interop kit against our own interop server: every case passes (none unsupported), the
 * formats carry every result, and a case fails when the proxy misbehaves (a proxy with bind and
 * QUIC-aware off reports them unsupported, not failed).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_CASES,
  allPassed,
  formatJsonLines,
  formatMarkdown,
  formatTable,
  runCases,
  selectCases,
} from '../../src/kit/runner.js';
import { type InteropServer, startInteropServer } from '../../src/kit/server.js';
import type { InteropContext } from '../../src/kit/types.js';
import { startTestProxy, type TestProxy } from '../masque/proxy/loopback.js';
import { ipv6Available } from '../support/ipv6.js';

let server: InteropServer;

beforeAll(async () => {
  expect(await ipv6Available()).toBe(true);
  server = await startInteropServer({ listen: '127.0.0.1:0' });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

function context(template = server.proxy.template): InteropContext {
  return {
    template,
    client: { insecure: true },
    echo: server.echo,
    echo6: server.echo6,
    reflector: server.reflector,
    h3Target: server.h3Target,
    h3Ca: [server.cert.certPem],
    timeoutMs: 3000,
  };
}

describe('masque interop client against masque interop server', () => {
  it('every case passes', async () => {
    const results = await runCases(context(), ALL_CASES);
    const failed = results.filter((r) => r.status !== 'pass');
    expect(failed, formatTable(results)).toEqual([]);
    expect(allPassed(results)).toBe(true);
    expect(results.map((r) => r.name)).toEqual(ALL_CASES.map((c) => c.name));
    // The formats carry every case.
    expect(
      formatJsonLines(results)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).name),
    ).toEqual(ALL_CASES.map((c) => c.name));
    expect(
      formatMarkdown(results, 'p')
        .split('\n')
        .filter((l) => l.startsWith('| udp-')).length,
    ).toBe(ALL_CASES.filter((c) => c.group === 'connect-udp').length);
  }, 180_000);

  it('the card names the template, the drafts, the targets and the client command', () => {
    for (const s of [
      server.proxy.template,
      server.echo,
      server.reflector,
      server.h3Target,
      '0xffe800',
      '0x1C0FE323',
      'masque interop client',
    ]) {
      expect(server.card).toContain(s);
    }
  });

  it('--debug-dir keeps a key log and a qlog per case', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'masque-kit-'));
    try {
      const [r] = await runCases({ ...context(), debugDir: dir }, selectCases(['udp-small']));
      expect(r.status).toBe('pass');
      expect(readFileSync(join(dir, 'udp-small.keys'), 'utf8')).toMatch(
        /CLIENT_HANDSHAKE_TRAFFIC_SECRET/,
      );
      expect(
        readdirSync(join(dir, 'udp-small')).some((f) => f.endsWith('qlog') || f.endsWith('.sqlog')),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('selects cases by name or group, and refuses unknown names', () => {
    expect(selectCases(['bind']).every((c) => c.group === 'bind')).toBe(true);
    expect(selectCases(['udp-small', 'udp-small']).map((c) => c.name)).toEqual(['udp-small']);
    expect(() => selectCases(['nope'])).toThrow(/unknown case "nope"/);
  });
});

describe('against a proxy with bind and QUIC-aware off', () => {
  let other: TestProxy;
  beforeAll(async () => {
    other = await startTestProxy({
      targets: { allowSpecial: true },
      bind: { enabled: false },
      quicAware: { enabled: false },
    });
  });
  afterAll(async () => {
    await other?.proxy.close({ timeout: 500 });
  });

  it('reports those cases unsupported, not failed, and the rest pass', async () => {
    const cases = selectCases([
      'udp-small',
      'bind-uncompressed',
      'bind-legacy',
      'quic-registration',
      'quic-forwarded-scramble',
    ]);
    const results = await runCases(context(other.proxy.template), cases);
    expect(
      Object.fromEntries(results.map((r) => [r.name, r.status])),
      formatTable(results),
    ).toEqual({
      'udp-small': 'pass',
      'bind-uncompressed': 'unsupported',
      'bind-legacy': 'unsupported',
      'quic-registration': 'unsupported',
      'quic-forwarded-scramble': 'unsupported',
    });
    expect(allPassed(results)).toBe(true);
  }, 60_000);
});
