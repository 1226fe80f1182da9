/**
 * One side of an encrypted connection (protocol.md §2 AES): seals what this side sends with its
 * direction's key and opens what it receives with the other. The server and the SDK use the same
 * class with opposite roles, so they cannot disagree on which key goes where.
 */
import { type AadFields, frameAad } from './aad.js';
import { aesOpen, aesSeal } from './aead.js';
import { deriveSessionKeys } from './session-keys.js';

export type CipherRole = 'client' | 'server';

export class SessionCipher {
  readonly #sendKey: Uint8Array;
  readonly #receiveKey: Uint8Array;

  constructor(secret: Uint8Array, role: CipherRole) {
    const keys = deriveSessionKeys(secret);
    this.#sendKey = role === 'client' ? keys.c2s : keys.s2c;
    this.#receiveKey = role === 'client' ? keys.s2c : keys.c2s;
  }

  /** `header.flag` must already say encrypt = AES: the flag is authenticated as sent. */
  seal(header: AadFields, body: Uint8Array, nonce?: Uint8Array): Uint8Array {
    return aesSeal(this.#sendKey, frameAad(header), body, nonce);
  }

  /** DecryptError when the body or any authenticated header byte was changed. */
  open(header: AadFields, body: Uint8Array): Uint8Array {
    return aesOpen(this.#receiveKey, frameAad(header), body);
  }
}
