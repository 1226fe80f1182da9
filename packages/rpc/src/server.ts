import {
  type ChannelOptions,
  status as GrpcStatus,
  type MethodDefinition,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import { isImError } from '@im/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { toGrpcStatus } from './errors.js';
import { grpcServerDuration, type ServerDuration } from './metrics.js';
import { encoder, type Handlers, type MethodSpec, rpcName, type ServiceSpec } from './spec.js';

export interface ServeOptions {
  /** Interface to listen on; default 0.0.0.0. */
  host?: string;
  /** 0 picks a free port (tests); the bound one is RpcServer.port. */
  port: number;
  /** Where im_grpc_server_duration_seconds is recorded; none: not recorded. */
  registry?: Registry;
  /** Unexpected (non-ImError) failures are logged here with their stack. */
  logger?: Logger;
  /** close(): how long in-flight calls may take to finish before they are cancelled. Default 5000. */
  shutdownTimeoutMs?: number;
}

export interface RpcServer {
  readonly port: number;
  /** Stops accepting calls, lets in-flight ones finish (bounded), then cancels the rest. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * Server-side keep-alive: pings an idle client connection to find dead peers (an edge that vanished
 * without a FIN), and recycles connections now and then so clients re-resolve the service's DNS name
 * and spread over new replicas.
 */
const SERVER_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_age_ms': 10 * 60_000,
  'grpc.max_connection_age_grace_ms': 30_000,
};

/**
 * Binds one service of the generated method table to host:port. Each handler gets the decoded
 * request object and returns the response object; a thrown ImError becomes a gRPC status with the
 * contract status in trailers (errors.ts), anything else INTERNAL.
 */
export async function startRpcServer<S extends ServiceSpec>(
  service: S,
  handlers: Handlers<S>,
  opts: ServeOptions,
): Promise<RpcServer> {
  const server = new Server(SERVER_OPTIONS);
  const duration = opts.registry ? grpcServerDuration(opts.registry) : undefined;
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: Record<string, UntypedHandleCall> = {};
  for (const [key, m] of Object.entries(service.methods)) {
    const spec = m as MethodSpec<unknown, unknown>;
    const handler = (handlers as Record<string, (req: unknown) => Promise<unknown>>)[key];
    if (!handler) throw new Error(`${service.name}: no handler for ${key}`);
    definition[key] = methodDefinition(spec);
    implementation[key] = unaryHandler(service.name, rpcName(spec.path), handler, duration, opts.logger);
  }
  server.addService(definition as ServiceDefinition, implementation);

  const host = opts.host ?? '0.0.0.0';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  const timeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}

function methodDefinition(spec: MethodSpec<unknown, unknown>): MethodDefinition<unknown, unknown> {
  return {
    path: spec.path,
    requestStream: false,
    responseStream: false,
    requestSerialize: encoder(spec.request),
    requestDeserialize: (b: Buffer) => spec.request.decode(b),
    responseSerialize: encoder(spec.response),
    responseDeserialize: (b: Buffer) => spec.response.decode(b),
    originalName: rpcName(spec.path),
  };
}

function unaryHandler(
  serviceName: string,
  method: string,
  handler: (req: unknown) => Promise<unknown>,
  duration: ServerDuration | undefined,
  logger: Logger | undefined,
): UntypedHandleCall {
  return async (
    call: { request: unknown },
    callback: (err: ReturnType<typeof toGrpcStatus> | null, res?: unknown) => void,
  ) => {
    const end = duration?.startTimer({ service: serviceName, method });
    try {
      const res = await handler(call.request);
      end?.({ code: 'OK' });
      callback(null, res);
    } catch (err) {
      const status = toGrpcStatus(err);
      if (!isImError(err)) logger?.error({ err, service: serviceName, method }, 'internal call failed');
      end?.({ code: GrpcStatus[status.code] });
      callback(status);
    }
  };
}
