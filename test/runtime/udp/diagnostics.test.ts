import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keylogFile, keylogFromEnv, QlogDirectory } from '../../../src/runtime/udp/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'masque-node-'));
  dirs.push(d);
  return d;
}

describe('SSLKEYLOGFILE sink', () => {
  it('appends NSS key log lines, one per line, in order', () => {
    const path = join(tmp(), 'keys.log');
    const sink = keylogFile(path);
    sink('CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11');
    sink('SERVER_HANDSHAKE_TRAFFIC_SECRET 00 22\n');
    expect(readFileSync(path, 'utf8')).toBe(
      'CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11\nSERVER_HANDSHAKE_TRAFFIC_SECRET 00 22\n',
    );
  });

  it('creates the file readable by its owner only (the lines decrypt the traffic)', () => {
    const path = join(tmp(), 'keys.log');
    keylogFile(path)('CLIENT_RANDOM 00 11');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('never throws into the connection when the file cannot be written', () => {
    const sink = keylogFile(join(tmp(), 'missing-dir', 'keys.log'));
    expect(() => sink('CLIENT_RANDOM 00 11')).not.toThrow();
  });

  it('is enabled by the SSLKEYLOGFILE variable only', () => {
    expect(keylogFromEnv({})).toBeUndefined();
    const path = join(tmp(), 'env.log');
    keylogFromEnv({ SSLKEYLOGFILE: path })?.('EXPORTER_SECRET 01 02');
    expect(readFileSync(path, 'utf8')).toBe('EXPORTER_SECRET 01 02\n');
  });
});

describe('qlog directory', () => {
  it('writes one JSON-SEQ file per connection: header record, then events', async () => {
    const dir = tmp();
    const q = new QlogDirectory(dir);
    const a = q.forConnection('server-abcd', 'server');
    const b = q.forConnection('client/1', 'client');
    a({ time: 1, name: 'transport:packet_sent', data: { pn: 0 } });
    b({ time: 2, name: 'transport:packet_received', data: { pn: 0 } });
    a({ time: 3, name: 'connectivity:connection_closed', data: {} });
    a({ time: 4, name: 'transport:packet_sent', data: { pn: 1 } }); // after close: ignored
    await q.closeAll();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['client_1-1.sqlog', 'server-abcd-0.sqlog']);
    const text = readFileSync(join(dir, 'server-abcd-0.sqlog'), 'utf8');
    const records = text.split('\x1e').filter((r) => r.length > 0);
    expect(records.every((r) => r.endsWith('\n'))).toBe(true);
    const parsed = records.map((r) => JSON.parse(r));
    expect(parsed[0]).toMatchObject({
      qlog_format: 'JSON-SEQ',
      trace: { vantage_point: { type: 'server' } },
    });
    expect(parsed.slice(1).map((e) => e.time)).toEqual([1, 3]);
  });
});
