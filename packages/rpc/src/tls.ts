/**
 * mTLS for every internal gRPC hop (docs/security.md, Internal traffic): config grpc.tlsCaFile,
 * tlsCertFile, tlsKeyFile (IM_GRPC_TLS_*). Off when none is set (plain HTTP/2, for a network that
 * is already private); with all three, every server asks for a client certificate signed by the CA
 * and refuses a connection without one, and every client shows its own and checks the server's.
 * One CA for the cluster; each service (or all of them, with IM_GRPC_TLS_SERVER_NAME) holds a
 * certificate for the name it is dialled at.
 */
import { readFileSync } from 'node:fs';
import { type ChannelCredentials, type ChannelOptions, credentials, ServerCredentials } from '@grpc/grpc-js';
import { type Config, ConfigError } from '@im/core';

export interface GrpcTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** Checked in the servers' certificates instead of each address's host, when set. */
  serverName?: string;
}

/** The files config.grpc names, read at start; null when mTLS is off. ConfigError when half set or unreadable. */
export function loadGrpcTls(grpc: Config['grpc']): GrpcTls | null {
  const files = {
    IM_GRPC_TLS_CA_FILE: grpc.tlsCaFile,
    IM_GRPC_TLS_CERT_FILE: grpc.tlsCertFile,
    IM_GRPC_TLS_KEY_FILE: grpc.tlsKeyFile,
  };
  const set = Object.entries(files).filter(([, path]) => path !== '');
  if (set.length === 0) return null;
  if (set.length < 3) {
    const missing = Object.entries(files)
      .filter(([, path]) => path === '')
      .map(([name]) => name);
    throw new ConfigError(
      `gRPC mTLS needs the CA, the certificate and the key: ${missing.join(', ')} not set`,
    );
  }
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${name} ${path} cannot be read: ${(err as Error).message}`);
    }
  };
  return {
    ca: read('IM_GRPC_TLS_CA_FILE', grpc.tlsCaFile),
    cert: read('IM_GRPC_TLS_CERT_FILE', grpc.tlsCertFile),
    key: read('IM_GRPC_TLS_KEY_FILE', grpc.tlsKeyFile),
    ...(grpc.tlsServerName ? { serverName: grpc.tlsServerName } : {}),
  };
}

/** A client's side: its certificate, and the CA that must have signed the server's. */
export function channelCredentials(tls: GrpcTls | null | undefined): ChannelCredentials {
  return tls ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createInsecure();
}

/** The name to check the server's certificate against, when it is not the address's host. */
export function tlsChannelOptions(tls: GrpcTls | null | undefined): ChannelOptions {
  return tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {};
}

/** A server's side: its certificate, and a client certificate of the CA required (true). */
export function serverCredentials(tls: GrpcTls | null | undefined): ServerCredentials {
  return tls
    ? ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true)
    : ServerCredentials.createInsecure();
}
