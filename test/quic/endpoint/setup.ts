/** Builds endpoints around fake connections, with every server/client connection recorded. */
import { QuicEndpoint, type QuicEndpointOptions } from '../../../src/quic/endpoint/index.js';
import { randomBytes, SeededRandom } from '../../../src/util/random.js';
import { FakeConnection } from './fakes.js';

export interface Harness {
  ep: QuicEndpoint<FakeConnection, { name: string }>;
  servers: FakeConnection[];
  clients: FakeConnection[];
}

/** An endpoint whose server connections get a random 8-byte CID and whose clients too. */
export function harness(
  options: Partial<QuicEndpointOptions<FakeConnection, { name: string }>> = {},
  seed = 1,
): Harness {
  const random = new SeededRandom(seed);
  const servers: FakeConnection[] = [];
  const clients: FakeConnection[] = [];
  const ep = new QuicEndpoint<FakeConnection, { name: string }>({
    random,
    createServerConnection: (info) => {
      const c = new FakeConnection(`server${servers.length}`, [randomBytes(random, 8)], info);
      servers.push(c);
      return c;
    },
    createClientConnection: (config) => {
      const c = new FakeConnection(config.name, [randomBytes(random, 8)], undefined, config);
      clients.push(c);
      return c;
    },
    ...options,
  });
  return { ep, servers, clients };
}
