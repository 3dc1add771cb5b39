/**
 * The public API is what users import: `masque` (SDK and proxy) and `masque/http3` (HTTP/3 server
 * and client), and nothing else. A change here is a change of the package's contract.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as masque from 'masque';
import * as http3 from 'masque/http3';
import { describe, expect, it } from 'vitest';
import { importsOf } from '../structure/imports.js';

const root = new URL('../../', import.meta.url);

describe('public API', () => {
  it('masque exports the SDK and the proxy, no codec internals', () => {
    expect(Object.keys(masque).sort()).toEqual([
      'ConfigError',
      'ConnectUdpHandler',
      'MasqueBoundSocket',
      'MasqueClient',
      'MasqueError',
      'MasqueErrorCode',
      'MasqueUdpSocket',
      'TunnelDatagramSocket',
      'UdpForwarder',
      'generateDevCert',
      'loadConfig',
      'parseConfig',
      'spkiSha256Of',
      'startProxy',
    ]);
  });

  it('masque/http3 exports the HTTP/3 server, client and WebTransport', () => {
    expect(Object.keys(http3).sort()).toEqual([
      'ClientConnectSession',
      'ClientResponse',
      'ConnectSession',
      'H3Client',
      'H3HttpError',
      'H3Server',
      'IncomingRequest',
      'ServerConnectSession',
      'ServerResponse',
      'WebTransportError',
      'WebTransportSession',
      'serveWebTransport',
      'serveWebTransportEcho',
    ]);
  });

  it('package.json exports exactly those entry points, built from those files', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(Object.keys(pkg.exports)).toEqual(['.', './http3', './package.json']);
    expect(pkg.exports['.'].default).toBe('./dist/src/index.js');
    expect(pkg.exports['./http3'].default).toBe('./dist/src/http3-api.js');
    const tsconfig = readFileSync(new URL('tsconfig.json', root), 'utf8');
    expect(tsconfig).toContain('"masque": ["./src/index.ts"]');
    expect(tsconfig).toContain('"masque/http3": ["./src/http3-api.ts"]');
  });

  it('examples import the package by name, never ../src', () => {
    const dir = new URL('examples/', root);
    const offenders: string[] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      for (const spec of importsOf(readFileSync(new URL(f, dir), 'utf8'))) {
        if (spec.startsWith('.')) offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
