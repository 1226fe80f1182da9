/**
 * The cluster's internal messages (proto/internal/*.proto: gRPC calls and Kafka records) and the
 * gRPC method table, generated with the public bodies by scripts/gen-proto.mjs. Not part of the
 * public protocol: the client SDK never imports this entry.
 */
export * from './gen/internal.js';
export { MessageService, type MethodSpec, PresenceService, StorageService } from './gen/services.js';
export * from './pb/index.js';
