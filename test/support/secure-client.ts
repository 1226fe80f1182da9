/**
 * protocol.md §2 AES (1) / RSA (2) over RawClient, written from the contract (not through the SDK),
 * so the server is checked against an independent implementation of the frame encryption: RSA
 * LOGIN with a fresh secret, then every request sealed with the c2s key and every answer opened with
 * the s2c key. Raw frames can still be written through `raw` to break the rules on purpose.
 */
import {
  Command,
  Encrypt,
  Flow,
  type Frame,
  frameAad,
  packFlag,
  rsaSeal,
  SessionCipher,
  unpackFlag,
} from '../../packages/protocol/src/index.js';
import { type Identity, loginBody } from './im.js';
import { isResponse, RawClient } from './raw-client.js';

export interface SecureRequest {
  command: number;
  body?: Uint8Array;
  /** Default: the next request seq. */
  seq?: number;
  /** Parts of the flag other than encrypt (default: a plain request). */
  compression?: number;
  /** E2E (3) on MS: marked encrypt = 3 and sealed all the same (protocol.md §2). */
  e2e?: boolean;
}

/** An opened frame: the body in the clear, plus what was on the wire. */
export interface Opened extends Frame {
  /** The encrypt part of the flag as received. */
  wireEncrypt: number;
}

export class SecureClient {
  cipher: SessionCipher | null = null;

  constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<SecureClient> {
    return new SecureClient(await RawClient.connect(port));
  }

  /** RSA (2) LOGIN; the answer is opened with the secret it carried (protocol.md §2 RSA). */
  async rsaLogin(
    id: Identity,
    serverPublicKey: string | Uint8Array,
    extra: { publicKey?: Uint8Array; clientTime?: number } = {},
  ): Promise<Opened> {
    const seq = this.raw.nextSeq();
    const flag = packFlag({ flow: Flow.REQUEST, encrypt: Encrypt.RSA });
    const header = { seq, command: Command.LOGIN, flag, status: 0 };
    const { body, secret } = rsaSeal(serverPublicKey, frameAad(header), loginBody(id, extra));
    this.raw.send({ ...header, body });
    const candidate = new SessionCipher(secret, 'client');
    const res = await this.raw.next((f) => isResponse(f) && f.seq === seq);
    const opened = open(res, candidate);
    if (res.status === 0) this.cipher = candidate;
    return opened;
  }

  /** Seals and sends a request; returns its seq. */
  send(r: SecureRequest): number {
    const seq = r.seq ?? this.raw.nextSeq();
    const encrypt = r.e2e ? Encrypt.E2E : Encrypt.AES;
    const flag = packFlag({ flow: Flow.REQUEST, compression: r.compression ?? 0, encrypt });
    const plain = r.body ?? new Uint8Array(0);
    const cipher = this.cipher;
    if (!cipher) throw new Error('no session: rsaLogin first');
    const body = cipher.seal({ seq, command: r.command, flag, status: 0 }, plain);
    this.raw.send({ seq, command: r.command, flag, body });
    return seq;
  }

  async request(r: SecureRequest, timeoutMs?: number): Promise<Opened> {
    const seq = this.send(r);
    return this.open(
      await this.raw.next((f) => isResponse(f) && f.seq === seq && f.command === r.command, timeoutMs),
    );
  }

  /** The next frame matching pred, opened (AES, and E2E on an encrypted connection). */
  async next(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Opened> {
    return this.open(await this.raw.next(pred, timeoutMs));
  }

  open(f: Frame): Opened {
    return open(f, this.cipher);
  }

  close(): void {
    this.raw.close();
  }
}

/** protocol.md §2: once there is a key, every server frame is sealed (E2E ones too); throws if not. */
function open(f: Frame, cipher: SessionCipher | null): Opened {
  const wireEncrypt = unpackFlag(f.flag).encrypt;
  if (wireEncrypt !== Encrypt.AES && !(cipher && wireEncrypt === Encrypt.E2E)) return { ...f, wireEncrypt };
  if (!cipher) throw new Error('an AES frame but no session key');
  return { ...f, body: cipher.open(f, f.body), wireEncrypt };
}
