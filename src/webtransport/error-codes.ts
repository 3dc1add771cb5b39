/**
 * WebTransport application error codes (32-bit) carried in HTTP/3 error codes (draft §4.4):
 * the range starts at 0x52e4a40fa8db and skips the reserved HTTP/3 codes 0x1f * N + 0x21.
 *
 *   webtransport_code_to_http_code(n) = first + n + floor(n / 0x1e)
 */
import { WtErrorCode } from './constants.js';

const FIRST = WtErrorCode.WT_APPLICATION_ERROR_FIRST;
const LAST = WtErrorCode.WT_APPLICATION_ERROR_LAST;

/** The HTTP/3 code for application code `n` (0 ≤ n ≤ 0xffffffff); RangeError otherwise. */
export function webTransportCodeToHttp(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`WebTransport application error code ${n} is not a 32-bit value`);
  }
  return FIRST + n + Math.floor(n / 0x1e);
}

/**
 * The application code an HTTP/3 code stands for, or `undefined` when it is outside the range or
 * one of the reserved codes inside it (draft §4.4: such codes carry no application code).
 */
export function httpCodeToWebTransport(code: number): number | undefined {
  if (!Number.isSafeInteger(code) || code < FIRST || code > LAST) return undefined;
  if ((code - 0x21) % 0x1f === 0) return undefined;
  const shifted = code - FIRST;
  return shifted - Math.floor(shifted / 0x1f);
}
