import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRANSPORT_SETTINGS,
  resolveMaxUdpPayload,
  resolveSettings,
} from '../../../src/quic/connection/config.js';

describe('transport settings', () => {
  it('advertise a 65527-byte receive limit by default (RFC 9000 §18.2 max_udp_payload_size)', () => {
    expect(DEFAULT_TRANSPORT_SETTINGS.maxUdpPayloadSize).toBe(65_527);
    expect(resolveSettings({ maxUdpPayloadSize: 1500 }).maxUdpPayloadSize).toBe(1500);
  });

  it('refuse a receive limit outside 1200..65527', () => {
    for (const v of [1199, 65_528, 1300.5]) {
      expect(() => resolveSettings({ maxUdpPayloadSize: v })).toThrow(RangeError);
    }
  });

  it('maxUdpPayload is the PMTU discovery ceiling: 1200..65527, default 1452', () => {
    expect(resolveMaxUdpPayload(undefined)).toBe(1452);
    expect(resolveMaxUdpPayload(1200)).toBe(1200);
    expect(resolveMaxUdpPayload(9000)).toBe(9000);
    expect(resolveMaxUdpPayload(65_527)).toBe(65_527);
    for (const v of [1199, 65_528, 1300.5]) {
      expect(() => resolveMaxUdpPayload(v)).toThrow(RangeError);
    }
  });
});
