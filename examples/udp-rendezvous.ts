/**
 * A rendezvous as WebRTC / ICE does it, through a bound UDP socket on a MASQUE proxy
 * (connect-udp-bind): the bound client learns its public address from the proxy (as a STUN-like
 * "server reflexive" candidate), hands it to a second party over some signalling channel (here a
 * function call), and that party, a plain UDP socket that never talked to the proxy, sends to it
 * directly. The client answers to the sender it saw, from the same public address.
 * Self-contained: it starts a proxy on 127.0.0.1 that allows loopback peers.
 *
 *   npx tsx examples/udp-rendezvous.ts
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { generateDevCert, MasqueClient, parseConfig, startProxy } from 'masque';
import { pino } from 'pino';

/** The second party: sends `text` to `address:port` and resolves with the first reply. */
async function knock(party: Socket, address: string, port: number, text: string) {
  const reply = once(party, 'message') as Promise<[Buffer, { address: string; port: number }]>;
  party.send(text, port, address);
  const [msg, from] = await reply;
  return { reply: msg.toString(), from: `${from.address}:${from.port}` };
}

/** The rendezvous through the proxy at `template`; returns the lines it prints. */
export async function rendezvous(template: string, ca: string): Promise<string[]> {
  const client = await MasqueClient.connect(template, { ca: [ca] });
  const party = createSocket('udp4');
  try {
    const sock = await client.bindUdp();
    const pub = sock.address(); // the public address peers must use (Proxy-Public-Address)
    // The client answers whoever reaches it, to the address and port it came from.
    sock.on('message', (msg, rinfo) => {
      sock.send(
        `hello ${rinfo.address}:${rinfo.port}, you said "${msg}"`,
        rinfo.port,
        rinfo.address,
      );
    });
    await new Promise<void>((r) => party.bind(0, '127.0.0.1', r));
    const { reply, from } = await knock(party, pub.address, pub.port, 'hi');
    return [
      `public address: ${pub.address}:${pub.port}`,
      `party ${party.address().address}:${party.address().port} got: ${reply}`,
      `from: ${from}`,
    ];
  } finally {
    party.close();
    await client.close();
  }
}

/** Runs it with a proxy of its own. */
export async function main(): Promise<string[]> {
  const cert = generateDevCert();
  const proxy = await startProxy(
    parseConfig({ listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] } }),
    { certPem: cert.certPem, keyPem: cert.keyPem, logger: pino({ level: 'silent' }) },
  );
  try {
    return await rendezvous(proxy.template, cert.certPem);
  } finally {
    await proxy.close({ timeout: 500 });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await main()) process.stdout.write(`${line}\n`);
}
