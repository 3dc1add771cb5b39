/** The assembled proxy: a configuration turned into a running HTTP/3 server with its handlers. */
export {
  type RunningProxy,
  type StartProxyOptions,
  spkiSha256Of,
  startProxy,
} from './proxy-server.js';
