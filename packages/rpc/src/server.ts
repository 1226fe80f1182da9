import {
  type ChannelOptions,
  status as GrpcStatus,
  type MethodDefinition,
  Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import { isImError } from '@im/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { toGrpcStatus } from './errors.js';
import { grpcServerDuration, type ServerDuration } from './metrics.js';
import {
  type MethodSpec,
  type RequestOf,
  type ResponseOf,
  rpcName,
  type ServiceSpec,
  serializers,
} from './spec.js';
import { type GrpcTls, serverCredentials } from './tls.js';

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
  /** mTLS (tls.ts loadGrpcTls): only clients with a certificate of its CA connect. Absent: plain. */
  tls?: GrpcTls | null;
}

export interface RpcServer {
  readonly port: number;
  /** Stops accepting calls, lets in-flight ones finish (bounded), then cancels the rest. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * One handler per rpc of a service: a unary one gets the request and returns the response; a
 * streaming one gets the call and owns it until it ends.
 */
export type Handlers<S extends ServiceSpec> = {
  [K in keyof S['methods'] & string]: S['methods'][K] extends { requestStream: false; responseStream: false }
    ? (req: RequestOf<S['methods'][K]>) => Promise<Partial<ResponseOf<S['methods'][K]>>>
    : (call: ServerDuplexStream<RequestOf<S['methods'][K]>, ResponseOf<S['methods'][K]>>) => void;
};

/**
 * Server-side keep-alive: pings an idle client connection to find dead peers (an edge that vanished
 * without a FIN), and recycles connections now and then so clients re-resolve the service's DNS name
 * and spread over new replicas. The grace is longer than a client's stream rotation
 * (batch.client.ts), so a recycled connection's streams end by rotation, not by cancellation.
 */
const SERVER_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_age_ms': 10 * 60_000,
  'grpc.max_connection_age_grace_ms': 6 * 60_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 20_000,
};

/**
 * Binds one service of the generated method table to host:port. A unary handler gets the decoded
 * request and returns the response; a thrown ImError becomes a gRPC status with the contract status
 * in trailers (errors.ts), anything else INTERNAL. A stream handler gets the call.
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
    const spec = m as unknown as MethodSpec<unknown, unknown>;
    const handler = (handlers as Record<string, (arg: never) => unknown>)[key];
    if (!handler) throw new Error(`${service.name}: no handler for ${key}`);
    definition[key] = methodDefinition(spec);
    implementation[key] =
      spec.requestStream || spec.responseStream
        ? (handler as UntypedHandleCall)
        : unaryHandler(
            service.name,
            rpcName(spec.path),
            handler as (req: unknown) => Promise<unknown>,
            duration,
            opts.logger,
          );
  }
  server.addService(definition as ServiceDefinition, implementation);

  const host = opts.host ?? '0.0.0.0';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port}`, serverCredentials(opts.tls), (err, bound) =>
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
  const codec = serializers(spec);
  return {
    path: spec.path,
    requestStream: spec.requestStream,
    responseStream: spec.responseStream,
    requestSerialize: codec.serializeRequest,
    requestDeserialize: codec.deserializeRequest,
    responseSerialize: codec.serializeResponse,
    responseDeserialize: codec.deserializeResponse,
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
