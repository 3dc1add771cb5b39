/** The proxy configuration file: schema, loading and warnings. */
export {
  ConfigError,
  configWarnings,
  formatPath,
  loadConfig,
  type ParseConfigOptions,
  parseConfig,
} from './load.js';
export {
  authConfig,
  type ListenAddress,
  type ProxyConfig,
  parseListenAddress,
  proxyConfigSchema,
  targetRules,
} from './schema.js';
