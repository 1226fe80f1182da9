import type { MethodSpec } from './gen/services.js';

export type { MethodSpec };

/** A service of the generated method table (gen/services.ts). */
export interface ServiceSpec {
  readonly name: string;
  readonly methods: { readonly [method: string]: { readonly path: string } };
}

export type RequestOf<M> = M extends MethodSpec<infer Req, infer _Res> ? Req : never;
export type ResponseOf<M> = M extends MethodSpec<infer _Req, infer Res> ? Res : never;

/** One async function per rpc of the service, on the generated message objects. */
export type Handlers<S extends ServiceSpec> = {
  [K in keyof S['methods']]: (req: RequestOf<S['methods'][K]>) => Promise<ResponseOf<S['methods'][K]>>;
};

/** The rpc's own name (`Send`) from its path (`/im.internal.MessageService/Send`), for logs and metrics. */
export function rpcName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** protobufjs hands out Uint8Arrays (Buffers on Node); grpc-js wants a Buffer: a view, no copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encoder<T>(codec: MethodSpec<T, unknown>['request']): (value: T) => Buffer {
  return (value) => asBuffer(codec.encode(value).finish());
}
