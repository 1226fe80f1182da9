export type { Registry } from 'prom-client';
export { BatchChannel, type BatchChannelOptions } from './batch.client.js';
export { batchStreamHandler, batchUnaryHandler } from './batch.server.js';
export { type ClientOptions, RpcClient } from './client.js';
export { ChatroomDirectoryClient, GroupDirectoryClient } from './directory.client.js';
export type { StorageDirectories } from './directory.server.js';
export { fromServiceError, TRAILER_RETRY_AFTER, TRAILER_STATUS, toGrpcStatus } from './errors.js';
export { MessageClient, type MessageClientOptions } from './message.client.js';
export { serveMessage } from './message.server.js';
export { GRPC_SERVER_DURATION, grpcServerDuration } from './metrics.js';
export { type OpsServer, type OpsServerOptions, startOpsServer } from './ops-server.js';
export { PresenceClient } from './presence.client.js';
export { servePresence } from './presence.server.js';
export {
  createRegistry,
  DEFAULT_SERVICE_SHUTDOWN_MS,
  portOf,
  type RunServiceOptions,
  readiness,
  runService,
  type ServiceParts,
  type ServiceProcess,
} from './process.js';
export { DEFAULT_SHUTDOWN_TIMEOUT_MS, type RpcServer, type ServeOptions, startRpcServer } from './server.js';
export { StorageClient, type StorageClientOptions } from './storage.client.js';
export { serveStorage } from './storage.server.js';
export { channelCredentials, type GrpcTls, loadGrpcTls, serverCredentials } from './tls.js';
