/** Connection ID management (RFC 9000 §5.1, §19.15, §19.16). */
export {
  type LocalCid,
  type LocalCidEvent,
  LocalCids,
  type LocalCidsOptions,
} from './local-cids.js';
export { type PeerCid, PeerCids, type PeerCidsOptions } from './peer-cids.js';
