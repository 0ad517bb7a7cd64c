export { QmpClient, connectQmp } from './client.js';
export type { ConnectionState, ExecuteOptions, QmpClientOptions, QmpTraffic, ReconnectOptions } from './client.js';
export { describeEndpoint, parseTcpEndpoint, unixEndpoint } from './endpoint.js';
export type { QmpEndpoint } from './endpoint.js';
export {
  ConnectError,
  ConnectionClosedError,
  ExecuteError,
  GreetingError,
  NegotiationError,
  ProtocolError,
  QmpError,
  QmpTimeoutError,
} from './errors.js';
export { eventMatching, eventTimeMs } from './events.js';
export type { EventPredicate, QmpEvent, QmpTimestamp, WaitForEventOptions } from './events.js';
export { DEFAULT_MAX_LINE_LENGTH, createFrameDecoder } from './framing.js';
export type { Frame, FrameDecoder } from './framing.js';
export { formatQemuVersion } from './greeting.js';
export type { QmpGreeting } from './greeting.js';
export { silentLogger } from './logger.js';
export type { QmpLogLevel, QmpLogger } from './logger.js';
