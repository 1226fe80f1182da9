export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export {
  type ClientState,
  ImClient,
  type ImClientEvents,
  type ImClientOptions,
  type SendInput,
  type SendResult,
} from './client.js';
export {
  Connection,
  type ConnectionEvents,
  type ConnectionOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
  decodeErrorInfo,
  type OpenOptions,
  type RequestOptions,
} from './connection.js';
export { chatroom, group, messageText, recalledUid, single, textContent } from './content.js';
export { E2E_MAGIC, type E2eContext, isSealedContent, openContent, sealContent } from './e2e.js';
export { type EventMap, TypedEmitter } from './emitter.js';
export * from './errors.js';
export { InboxTracker } from './inbox.js';
export type { Connector, Endpoint, TlsSettings, Transport, TransportListener } from './transport.js';
export { connectNode, nodeConnector } from './transport.node.js';
