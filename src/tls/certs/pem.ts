/** PEM armour (RFC 7468): split a bundle into DER blocks, and wrap DER as PEM. */

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The DER contents of every PEM block with `label` ("CERTIFICATE"), in file order. */
export function pemBlocks(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(BLOCK)) {
    if (m[1] !== label) continue;
    out.push(new Uint8Array(Buffer.from(m[2].replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

/** Wraps DER bytes as PEM with 64-column base64 lines (RFC 7468 §2). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
