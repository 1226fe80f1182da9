/**
 * The edge's side of protocol.md §2 AES (1) and RSA (2), in the order dispatch.ts applies it.
 *
 * Without a session secret: AES is UNSUPPORTED; RSA is allowed on LOGIN only and only when the
 * server has an RSA key (else UNSUPPORTED). The RSA body is opened right before decompression; the
 * secret becomes the connection's only if the LOGIN succeeds (commands/login.ts adopts it).
 *
 * With a session secret (SecureSession), before any other check, every client frame must open
 * with the c2s key WHATEVER its encrypt bits (protocol.md §2: "including frames marked
 * encrypt = 3"): a plain frame, an unsealed encrypt = 3 MS, a plain second LOGIN — anything that
 * does not authenticate against header bytes 4..11 — is BAD_REQUEST, then close (no downgrade, no
 * injection). seq must be above every seq seen on the connection: else BAD_REQUEST, then close.
 * An opened frame keeps encrypt = 3 (its data is end-to-end sealed: MS only, checked later);
 * any other encrypt value is cleared, the body now being in the clear.
 * Every frame the server then sends on the connection is sealed with the s2c key: AES (1), or
 * encrypt = 3 for a delivered end-to-end message (sealed all the same).
 */
import { createHash } from 'node:crypto';
import type { ServerKeys } from '@im/core';
import {
  Command,
  DecryptError,
  Encrypt,
  FLAG_ENCRYPT_MASK,
  FLAG_ENCRYPT_SHIFT,
  type Frame,
  frameAad,
  RSA_KEY_LENGTH_FIELD,
  rsaOpen,
  SessionCipher,
  Status,
  unpackFlag,
} from '@im/protocol';
import { ClosingError } from '../errors.js';

/** The header fields that go on the wire (and into the AAD) with a sealed body. */
export interface OutgoingHeader {
  seq: number;
  command: number;
  flag: number;
  status: number;
}

export class SecureSession {
  private readonly cipher: SessionCipher;
  /** Highest request seq accepted so far (the RSA LOGIN's seq to begin with). */
  private lastSeq: number;

  /**
   * @param wrappedDigest SHA-256 (hex) of the RSA-wrapped secret the LOGIN carried: what a replay of
   *   that LOGIN frame repeats (crypto/rsa-freshness.ts).
   */
  constructor(
    secret: Uint8Array,
    loginSeq: number,
    readonly wrappedDigest: string,
  ) {
    this.cipher = new SessionCipher(secret, 'server');
    this.lastSeq = loginSeq;
  }

  /**
   * A client frame on the encrypted connection → the same frame in the clear (encrypt part kept
   * for E2E, cleared otherwise), for the checks and handlers that follow. Throws the refusal.
   */
  open(frame: Frame): Frame {
    if (frame.seq <= this.lastSeq) {
      throw new ClosingError(
        Status.BAD_REQUEST,
        `replayed or old seq ${frame.seq} on an encrypted connection (last ${this.lastSeq}); closing`,
      );
    }
    let body: Uint8Array;
    try {
      body = this.cipher.open(frame, frame.body);
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      const { encrypt } = unpackFlag(frame.flag);
      throw new ClosingError(
        Status.BAD_REQUEST,
        `this connection is encrypted: every frame must be sealed with the session key (encrypt ${encrypt} frame: ${err.message}); closing`,
        { cause: err },
      );
    }
    // Only an authentic frame moves the window: a forged one must not block the real next seq.
    this.lastSeq = frame.seq;
    const e2e = unpackFlag(frame.flag).encrypt === Encrypt.E2E;
    return { ...frame, flag: e2e ? frame.flag : frame.flag & ~FLAG_ENCRYPT_MASK, body };
  }

  /**
   * Seals an outgoing frame: encrypt = AES goes into the flag first, as the AAD covers it; a
   * delivered end-to-end message keeps encrypt = 3 and is sealed the same way (protocol.md §2).
   */
  seal(h: OutgoingHeader, body: Uint8Array): { flag: number; body: Uint8Array } {
    const encrypt = unpackFlag(h.flag).encrypt === Encrypt.E2E ? Encrypt.E2E : Encrypt.AES;
    const flag = (h.flag & ~FLAG_ENCRYPT_MASK) | (encrypt << FLAG_ENCRYPT_SHIFT);
    return { flag, body: this.cipher.seal({ ...h, flag }, body) };
  }
}

/**
 * Check 3 of dispatch.ts for a connection WITHOUT a session secret: AES/RSA the connection cannot
 * use → the refusal text (UNSUPPORTED), else null.
 */
export function encryptionRefusal(keys: ServerKeys | null, frame: Frame): string | null {
  // The encrypt part of the flag (protocol.md §2), without unpackFlag's object: every frame comes here.
  const encrypt = (frame.flag & FLAG_ENCRYPT_MASK) >>> FLAG_ENCRYPT_SHIFT;
  if (encrypt === Encrypt.AES) {
    return 'encrypt 1 (AES) needs a session key: log in with RSA (2) first, or use TLS';
  }
  if (encrypt === Encrypt.RSA) {
    if (!keys) return 'encrypt 2 (RSA) is not available: this server has no RSA key; use TLS';
    if (frame.command !== Command.LOGIN) return 'encrypt 2 (RSA) is only for LOGIN';
  }
  return null;
}

/** SHA-256 of the body's RSA block (keyLen ‖ RSA-OAEP(secret)); rsaOpen has checked its length. */
function wrappedDigest(body: Uint8Array): string {
  const keyLen = new DataView(body.buffer, body.byteOffset, body.length).getUint16(0);
  return createHash('sha256')
    .update(body.subarray(0, RSA_KEY_LENGTH_FIELD + keyLen))
    .digest('hex');
}

/**
 * Opens an RSA (2) LOGIN body. The candidate session answers this LOGIN either way (protocol.md §2:
 * the response to an RSA login is sent with AES), and becomes the connection's only on success.
 */
export function openRsaLogin(keys: ServerKeys, frame: Frame): { body: Uint8Array; session: SecureSession } {
  try {
    const { plaintext, secret } = rsaOpen(keys.privateKey, frameAad(frame), frame.body);
    return { body: plaintext, session: new SecureSession(secret, frame.seq, wrappedDigest(frame.body)) };
  } catch (err) {
    if (!(err instanceof DecryptError)) throw err;
    throw new ClosingError(Status.BAD_REQUEST, `${err.message}; closing`, { cause: err });
  }
}
