import type { MethodSpec } from '@im/protocol/internal';

export type { MethodSpec };

/** A service of the generated method table (@im/protocol/internal, from proto/internal/*.proto). */
export interface ServiceSpec {
  readonly name: string;
  readonly methods: {
    readonly [method: string]: {
      readonly path: string;
      readonly requestStream: boolean;
      readonly responseStream: boolean;
    };
  };
}

export type RequestOf<M> = M extends MethodSpec<infer Req, infer _Res, boolean, boolean> ? Req : never;
export type ResponseOf<M> = M extends MethodSpec<infer _Req, infer Res, boolean, boolean> ? Res : never;

/** The unary rpcs of a service (neither side streams). */
export type UnaryKeys<S extends ServiceSpec> = {
  [K in keyof S['methods']]: S['methods'][K] extends { requestStream: false; responseStream: false }
    ? K
    : never;
}[keyof S['methods']] &
  string;

/** One async function per unary rpc of the service, on plain request/response values. */
export type UnaryHandlers<S extends ServiceSpec, K extends keyof S['methods']> = {
  [M in K]: (req: RequestOf<S['methods'][M]>) => Promise<Partial<ResponseOf<S['methods'][M]>>>;
};

/** The rpc's own name (`Send`) from its path (`/im.internal.MessageService/Send`), for logs and metrics. */
export function rpcName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** grpc-js wants a Buffer: a view of the encoded bytes, no copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The serializer and deserializer of one rpc, from its generated codecs. */
export function serializers<Req, Res>(spec: MethodSpec<Req, Res>) {
  return {
    serializeRequest: (v: Req): Buffer => asBuffer(spec.request.encode(v as never)),
    deserializeRequest: (b: Buffer): Req => spec.request.decode(b),
    serializeResponse: (v: Res): Buffer => asBuffer(spec.response.encode(v as never)),
    deserializeResponse: (b: Buffer): Res => spec.response.decode(b),
  };
}
