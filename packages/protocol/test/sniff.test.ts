import { describe, expect, it } from 'vitest';
import { Command, frameToBytes, sniffForeignProtocol } from '../src/index.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('sniffForeignProtocol (protocol.md §6 garbage on the port)', () => {
  it('recognises HTTP request lines, including the HTTP/2 preface', () => {
    for (const m of ['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'PATCH', 'CONNECT']) {
      expect(sniffForeignProtocol(ascii(`${m} / HTTP/1.1\r\n`))).toBe('http');
    }
    expect(sniffForeignProtocol(ascii('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).toBe('http');
    expect(sniffForeignProtocol(ascii('GET '))).toBe('http');
  });

  it('recognises a TLS ClientHello record', () => {
    expect(sniffForeignProtocol(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))).toBe('tls');
    expect(sniffForeignProtocol(new Uint8Array([0x16, 0x03, 0x03]))).toBe('tls');
    // A handshake record that is not a ClientHello, or not TLS 1.x.
    expect(sniffForeignProtocol(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x10, 0x02]))).toBeNull();
    expect(sniffForeignProtocol(new Uint8Array([0x16, 0x02, 0x01]))).toBeNull();
  });

  it('does not mistake our frames or partial prefixes for a foreign protocol', () => {
    const ping = frameToBytes({ seq: 1, command: Command.PING, flag: 0, status: 0, body: new Uint8Array() });
    expect(sniffForeignProtocol(ping)).toBeNull();
    expect(sniffForeignProtocol(ascii('GET'))).toBeNull();
    expect(sniffForeignProtocol(ascii('GETX / HTTP/1.1'))).toBeNull();
    expect(sniffForeignProtocol(ascii('get / HTTP/1.1'))).toBeNull();
    expect(sniffForeignProtocol(new Uint8Array([0x16]))).toBeNull();
    expect(sniffForeignProtocol(new Uint8Array())).toBeNull();
  });
});
