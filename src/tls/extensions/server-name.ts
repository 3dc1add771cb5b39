/**
 * server_name (RFC 6066 §3). ClientHello (and CertificateRequest, RFC 9261) carry a
 * ServerNameList; the server acknowledges with an empty body in EncryptedExtensions.
 *
 *   struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
 *   opaque HostName<1..2^16-1>;
 *   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { readList, readOpaque, writeList, writeOpaque } from '../codec.js';
import type { ExtensionContext, ServerNameExtension } from './types.js';

const HOST_NAME = 0;

export function decodeServerName(r: ByteReader, ctx: ExtensionContext): ServerNameExtension {
  if (ctx === 'encrypted_extensions') {
    // RFC 6066 §3: the server's "extension_data" field "SHALL be empty".
    return { kind: 'server_name' };
  }
  const names = readList(r, 2, 1, 0xffff, 'server_name_list', (x) => {
    const type = x.u8();
    if (type !== HOST_NAME) {
      // Only host_name is defined; an unknown NameType leaves the entry unparseable.
      throw new TlsAlertError('illegal_parameter', `server_name: unknown name_type ${type}`);
    }
    return readOpaque(x, 2, 1, 0xffff, 'HostName');
  });
  if (names.length !== 1) {
    // RFC 6066 §3: "The ServerNameList MUST NOT contain more than one name of the same name_type."
    throw new TlsAlertError('illegal_parameter', 'server_name: more than one host_name');
  }
  return { kind: 'server_name', hostName: hostNameFromBytes(names[0]) };
}

export function encodeServerName(
  w: ByteWriter,
  ext: ServerNameExtension,
  ctx: ExtensionContext,
): void {
  if (ctx === 'encrypted_extensions') {
    if (ext.hostName !== undefined) {
      throw new TlsAlertError('internal_error', 'server_name in EncryptedExtensions is empty');
    }
    return;
  }
  if (ext.hostName === undefined) {
    throw new TlsAlertError('internal_error', `server_name in ${ctx} needs a host name`);
  }
  const name = hostNameToBytes(ext.hostName);
  writeList(w, 2, [name], 1, 0xffff, 'server_name_list', (x, n) => {
    x.u8(HOST_NAME);
    writeOpaque(x, 2, n, 1, 0xffff, 'HostName');
  });
}

// RFC 6066 §3: "HostName" is "a byte string using ASCII encoding"; we accept printable ASCII.
function isHostNameByte(b: number): boolean {
  return b >= 0x21 && b <= 0x7e;
}

function hostNameFromBytes(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (!isHostNameByte(b)) {
      throw new TlsAlertError(
        'illegal_parameter',
        `server_name: byte 0x${b.toString(16)} in host name`,
      );
    }
    s += String.fromCharCode(b);
  }
  return s;
}

function hostNameToBytes(name: string): Uint8Array {
  const out = new Uint8Array(name.length);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isHostNameByte(c)) {
      throw new TlsAlertError(
        'internal_error',
        `server_name: ${JSON.stringify(name)} is not printable ASCII`,
      );
    }
    out[i] = c;
  }
  return out;
}
