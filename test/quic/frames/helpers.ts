/** Assertions shared by the frame tests. */
import { expect } from 'vitest';
import { TransportError } from '../../../src/quic/errors.js';
import { CodecError } from '../../../src/wire/index.js';

/** Runs `fn`, expects a TransportError and returns it. */
export function transportError(fn: () => unknown): TransportError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('expected a TransportError, nothing was thrown');
}

/** The CodecError code behind a TransportError, if any. */
export function causeCode(err: TransportError): string | undefined {
  return err.cause instanceof CodecError ? err.cause.code : undefined;
}
