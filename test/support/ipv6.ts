/** Whether this host has an IPv6 loopback, for tests that skip (visibly) without one. */
import { createSocket } from 'node:dgram';

/** True when a UDP socket can bind ::1 (some CI containers have no IPv6). */
export async function ipv6Available(): Promise<boolean> {
  const s = createSocket('udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '::1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}
