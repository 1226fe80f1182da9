/**
 * The Node build's Runtime: TCP/TLS sockets (transport.node.ts), node:crypto through
 * @im/protocol's own functions (the ones the server uses), node:zlib for gzip. Every primitive
 * answers synchronously, so an encrypted Node connection writes and reads frames in the same turn,
 * as before the browser build existed.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import type { PrivateKeyInput as NodePrivateKey, PublicKeyInput as NodePublicKey } from '@im/protocol';
import {
  aesOpen,
  aesSeal,
  gunzipBody,
  oaepDecrypt,
  oaepEncrypt,
  publicKeyDer,
  toPrivateKey,
  toPublicKey,
} from '@im/protocol';
import type { Runtime } from './runtime.js';
import { nodeConnector } from './transport.node.js';

export const nodeRuntime: Runtime = {
  name: 'node',
  connector: nodeConnector,
  randomBytes: (length) => new Uint8Array(randomBytes(length)),
  hkdfSha256: (secret, info, length) =>
    new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, length)),
  aesGcm: (key) => ({
    seal: (aad, plaintext, nonce) => aesSeal(key, aad, plaintext, nonce),
    open: (aad, sealed) => aesOpen(key, aad, sealed),
  }),
  oaepEncrypt: (key, data) => oaepEncrypt(toPublicKey(key as NodePublicKey), data),
  oaepDecrypt: (key, block) => oaepDecrypt(toPrivateKey(key as NodePrivateKey), block),
  publicKeyDer: (key) => publicKeyDer(key as NodePublicKey),
  gunzip: (body, maxLength) => gunzipBody(body, maxLength),
};
