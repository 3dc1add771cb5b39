/**
 * An HTTP/1.1 response head written straight to a socket (RFC 9112 §4 status line, §5 fields):
 * after node:http hands over an upgrade request's socket there is no ServerResponse, so the 101
 * and the refusals are written here. Names and values are checked with node's own validators, so
 * no CR/LF or other forbidden byte can split the response.
 */
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * The bytes of `HTTP/1.1 <status> <reason>`, the fields and the empty line. Throws node's
 * ERR_INVALID_HTTP_TOKEN / ERR_INVALID_CHAR (TypeError) for a field that cannot be sent.
 */
export function responseHead(
  status: number,
  fields: ReadonlyArray<readonly [string, string]>,
): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of fields) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}
