/**
 * Admission decides from the request alone, without sockets: a table resolver stands in for DNS.
 */
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../../src/masque/connect-udp/auth.js';
import { parseTargetRule, TargetPolicy } from '../../../src/masque/connect-udp/index.js';
import { type AdmissionContext, admit } from '../../../src/masque/proxy/admission.js';
import type { RelayMode } from '../../../src/masque/proxy/mode.js';
import { connectUdpHeaders, tableResolver } from './fakes.js';

const path = (host: string, port: number | string) => `/.well-known/masque/udp/${host}/${port}/`;

function context(o: Partial<AdmissionContext> = {}): AdmissionContext {
  return {
    template: 'https://proxy.example:4433/.well-known/masque/udp/{target_host}/{target_port}/',
    proxyName: 'px',
    auth: new Authenticator({ mode: 'none' }),
    policy: new TargetPolicy([parseTargetRule('127.0.0.0/8', 'allow')]),
    resolver: tableResolver({
      'echo.test': { a: ['127.0.0.2'] },
      'servfail.test': { error: 'ESERVFAIL' },
      'private.test': { a: ['10.1.2.3'] },
    }),
    offered: new Set<RelayMode>(['plain']),
    ...o,
  };
}

describe('admit', () => {
  it('admits plain connect-udp with the resolved, allowed addresses', async () => {
    const a = await admit(connectUdpHeaders(path('echo.test', 53)), context());
    expect(a).toMatchObject({
      ok: true,
      mode: 'plain',
      fellBack: false,
      addresses: [{ address: '127.0.0.2', family: 4 }],
    });
  });

  it('refuses in order: credentials, then the request, then DNS, then policy', async () => {
    const bearer = context({ auth: new Authenticator({ mode: 'bearer', tokens: ['t'] }) });
    const noAuth = await admit(connectUdpHeaders('/elsewhere'), bearer);
    expect(noAuth).toMatchObject({ ok: false, status: 407, reason: 'AUTH_MISSING' });
    expect(noAuth.ok === false && noAuth.headers).toEqual([
      ['proxy-authenticate', 'Bearer realm="masque"'],
    ]);
    expect(await admit(connectUdpHeaders('/elsewhere'), context())).toMatchObject({
      status: 404,
      proxyStatus: { proxy: 'px', error: 'http_request_error' },
    });
    expect(await admit(connectUdpHeaders(path('servfail.test', 53)), context())).toMatchObject({
      status: 502,
      reason: 'dns_error',
    });
    expect(await admit(connectUdpHeaders(path('private.test', 53)), context())).toMatchObject({
      status: 502,
      reason: 'destination_ip_prohibited',
    });
  });

  it('bind falls back to plain when not offered; offered, a real target is resolved for Context ID 0, */* is not', async () => {
    const bindHeaders = connectUdpHeaders(path('echo.test', 53), [['connect-udp-bind', '?1']]);
    expect(await admit(bindHeaders, context())).toMatchObject({
      ok: true,
      mode: 'plain',
      fellBack: true,
      addresses: [{ address: '127.0.0.2' }],
    });
    const offered = context({ offered: new Set<RelayMode>(['plain', 'bind']) });
    expect(await admit(bindHeaders, offered)).toMatchObject({
      ok: true,
      mode: 'bind',
      fellBack: false,
      addresses: [{ address: '127.0.0.2' }],
    });
    // No target, no DNS: a resolver that fails proves it is not asked.
    const star = connectUdpHeaders(path('%2A', '%2A'), [['connect-udp-bind', '?1']]);
    const noDns = context({
      offered: new Set<RelayMode>(['plain', 'bind']),
      resolver: tableResolver({}),
    });
    expect(await admit(star, noDns)).toMatchObject({ ok: true, mode: 'bind', target: undefined });
    expect(await admit(star, context())).toMatchObject({
      ok: false,
      status: 501,
      reason: 'BIND_NOT_OFFERED',
      proxyStatus: { error: 'http_request_error', statusCode: 501 },
    });
  });

  it('QUIC-aware requests are served as plain until a QUIC-aware strategy is offered', async () => {
    const h = connectUdpHeaders(path('echo.test', 443), [
      ['proxy-quic-forwarding', '?1; accept-transform="identity"'],
    ]);
    expect(await admit(h, context())).toMatchObject({ ok: true, mode: 'plain', fellBack: true });
    const offered = context({ offered: new Set<RelayMode>(['plain', 'quic-aware']) });
    expect(await admit(h, offered)).toMatchObject({
      ok: true,
      mode: 'quic-aware',
      quic: { enabled: true, acceptTransforms: ['identity'] },
      addresses: [{ address: '127.0.0.2' }],
    });
  });
});
