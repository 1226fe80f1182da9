/**
 * What both entries export unchanged: the runtime-free parts of the SDK. index.ts (Node) and
 * browser.ts add the classes and functions bound to their Runtime.
 */

/** The protocol values and body types an app needs, so neither entry needs a second import. */
export {
  Command,
  Compression,
  ContentType,
  type Conversation,
  ConversationType,
  Encrypt,
  Flow,
  type Frame,
  type LoginResponse,
  type Message,
  type MessageContent,
  type Notify,
  type PullResponse,
  type SendAck,
  Status,
  statusName,
} from '@im/protocol/portable';
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type {
  ClientState,
  ImClientEvents,
  ImClientOptions,
  SendInput,
  SendResult,
} from './client.js';
export {
  type ConnectionEvents,
  type ConnectionOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
  decodeErrorInfo,
  type OpenOptions,
  type RequestOptions,
} from './connection.js';
export { chatroom, group, messageText, recalledUid, single, textContent } from './content.js';
export { E2E_MAGIC, type E2eContext, isSealedContent } from './e2e.js';
export { type EventMap, TypedEmitter } from './emitter.js';
export * from './errors.js';
export { type FrameCipher, rsaSeal, sessionCipher } from './frame-crypto.js';
export { InboxTracker } from './inbox.js';
export type { AesGcmKey, Awaitable, PrivateKeyInput, PublicKeyInput, Runtime } from './runtime.js';
export type { Connector, Endpoint, TlsSettings, Transport, TransportListener } from './transport.js';
export {
  connectWebSocket,
  WS_PATH,
  WS_SUBPROTOCOL,
  webSocketConnector,
  webSocketUrl,
} from './transport.ws.js';
