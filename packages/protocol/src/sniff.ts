/**
 * Recognises the first bytes of a foreign protocol on the IM port (protocol.md §6: garbage such as
 * an HTTP request or a TLS hello on the plain port is closed and logged with a hint).
 */
export type ForeignProtocol = 'http' | 'tls';

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'PATCH', 'CONNECT', 'PRI'].map((m) =>
  Array.from(`${m} `, (c) => c.charCodeAt(0)),
);

/** TLS record type "handshake", then major version 3 (SSL 3.0 .. TLS 1.3 all use 0x03 0x0?). */
const TLS_HANDSHAKE = 0x16;
const TLS_MAJOR = 0x03;
const TLS_MAX_MINOR = 0x04;
/** Offset of the handshake type in the record; 1 is ClientHello. */
const TLS_HANDSHAKE_TYPE_OFFSET = 5;
const TLS_CLIENT_HELLO = 0x01;

/** 'http' for an HTTP request line (incl. the HTTP/2 preface), 'tls' for a TLS ClientHello, else null. */
export function sniffForeignProtocol(firstBytes: Uint8Array): ForeignProtocol | null {
  if (HTTP_METHODS.some((m) => startsWith(firstBytes, m))) return 'http';
  if (isTlsClientHello(firstBytes)) return 'tls';
  return null;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function isTlsClientHello(b: Uint8Array): boolean {
  if (b.length < 3 || b[0] !== TLS_HANDSHAKE || b[1] !== TLS_MAJOR || (b[2] ?? 0xff) > TLS_MAX_MINOR) {
    return false;
  }
  // With the handshake type present, insist on ClientHello; with fewer bytes the prefix is enough.
  return b.length <= TLS_HANDSHAKE_TYPE_OFFSET || b[TLS_HANDSHAKE_TYPE_OFFSET] === TLS_CLIENT_HELLO;
}
