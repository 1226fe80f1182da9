import {
  type ChannelOptions,
  Client,
  type ClientDuplexStream,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { ImError, Status } from '@im/protocol';
import { fromServiceError } from './errors.js';
import {
  type MethodSpec,
  type RequestOf,
  type ResponseOf,
  rpcName,
  type ServiceSpec,
  serializers,
  type UnaryKeys,
} from './spec.js';
import { channelCredentials, type GrpcTls, tlsChannelOptions } from './tls.js';

export interface ClientOptions {
  /** Deadline of every call (config.grpc.deadlineMs); past it the call fails with UNAVAILABLE. */
  deadlineMs: number;
  /** Extra or overriding channel options. */
  channelOptions?: ChannelOptions;
  /** mTLS (tls.ts loadGrpcTls); null or absent: plain. */
  tls?: GrpcTls | null;
}

/**
 * Client keep-alive and reconnection. Pings find a half-open connection (a service host that
 * vanished) within keepalive_time + keepalive_timeout instead of at the next call's deadline; the
 * reconnect backoff is capped at 5 s (grpc default: 120 s) so a restarted service is used again
 * quickly. round_robin spreads calls (and streams) over every address a service name resolves to.
 */
const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 5_000,
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};

/**
 * One channel to one service address. Every unary call carries the deadline; whatever goes wrong
 * resolves to an ImError — the service's own (rebuilt from trailers) or UNAVAILABLE for a backend
 * that is down, slow or unreachable (errors.ts) — so a caller never hangs on a dead service.
 */
export class RpcClient<S extends ServiceSpec> {
  readonly address: string;
  readonly deadlineMs: number;
  private readonly service: S;
  private readonly client: Client;
  private closed = false;

  constructor(service: S, address: string, opts: ClientOptions) {
    if (!(opts.deadlineMs > 0)) throw new RangeError(`deadlineMs must be > 0, got ${opts.deadlineMs}`);
    this.service = service;
    this.address = address;
    this.deadlineMs = opts.deadlineMs;
    this.client = new Client(address, channelCredentials(opts.tls), {
      ...CHANNEL_OPTIONS,
      ...tlsChannelOptions(opts.tls),
      ...opts.channelOptions,
    });
  }

  call<K extends UnaryKeys<S>>(
    method: K,
    request: RequestOf<S['methods'][K]>,
    deadlineMs = this.deadlineMs,
  ): Promise<ResponseOf<S['methods'][K]>> {
    const spec = this.service.methods[method] as unknown as MethodSpec<unknown, unknown>;
    const name = rpcName(spec.path);
    if (this.closed) {
      return Promise.reject(new ImError(Status.UNAVAILABLE, `${name} on ${this.address}: client closed`));
    }
    const codec = serializers(spec);
    let payload: Buffer;
    try {
      // Here, not inside grpc-js: a value a field cannot carry is the caller's bug (RangeError),
      // not a transport failure.
      payload = codec.serializeRequest(request);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        spec.path,
        (b: Buffer) => b,
        codec.deserializeResponse,
        payload,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null, res?: unknown) => {
          if (err) reject(fromServiceError(err, this.address, name));
          else resolve(res as ResponseOf<S['methods'][K]>);
        },
      );
    });
  }

  /**
   * Opens a bidirectional stream of `method` (no deadline: it lives until ended). Null when the
   * client is closed.
   */
  stream<K extends keyof S['methods'] & string>(
    method: K,
  ): ClientDuplexStream<RequestOf<S['methods'][K]>, ResponseOf<S['methods'][K]>> | null {
    if (this.closed) return null;
    const spec = this.service.methods[method] as unknown as MethodSpec<unknown, unknown>;
    const codec = serializers(spec);
    return this.client.makeBidiStreamRequest(
      spec.path,
      codec.serializeRequest,
      codec.deserializeResponse,
      new Metadata(),
      {},
    ) as ClientDuplexStream<RequestOf<S['methods'][K]>, ResponseOf<S['methods'][K]>>;
  }

  /** An ImError for a failed call or stream of `method` (see errors.ts). */
  failure(err: Partial<ServiceError>, method: string): ImError {
    return fromServiceError(err, this.address, method);
  }

  /** True once the channel is connected; false if it cannot connect within timeoutMs (readiness). */
  ready(timeoutMs = this.deadlineMs): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err));
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the channel; later calls fail with UNAVAILABLE. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}
