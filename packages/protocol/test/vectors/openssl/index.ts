/**
 * protocol.md §2 vectors made by the openssl command line (make.sh beside this file; each vector
 * lists the commands that produced it): checked by the protocol package and the SDK, so the
 * project's HKDF, AES-GCM and RSA-OAEP agree with an implementation that is not its own.
 * Depends on nothing but node:fs, like ../index.ts.
 */
import { readFileSync } from 'node:fs';

export interface OpensslFrame {
  name: string;
  direction: 'c2s' | 's2c';
  /** Hex of the body before sealing (protobuf written by hand from im.proto). */
  plaintext: string;
  /** Hex of the whole frame as it travels. */
  frame: string;
  commands: string[];
}

export interface OpensslVectors {
  description: string;
  /** `openssl version` of the run that wrote the file. */
  generator: string;
  secret: string;
  hkdf: { c2s: string; s2c: string; commands: string[] };
  /** Test-only key; wrappedSecret = OAEP-SHA256(secret) to its public half. */
  rsa: { privateKeyPem: string; wrappedSecret: string; commands: string[] };
  frames: OpensslFrame[];
}

export function loadOpensslVectors(): OpensslVectors {
  return JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url), 'utf8')) as OpensslVectors;
}

export function opensslFrame(v: OpensslVectors, name: string): OpensslFrame {
  const f = v.frames.find((x) => x.name === name);
  if (!f) throw new Error(`no openssl vector ${name}`);
  return f;
}
