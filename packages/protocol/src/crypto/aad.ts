/**
 * The additional authenticated data of protocol.md §2 AES and RSA frames: header bytes 4..11 as
 * sent (version, seq, command, flag, status), so a changed header byte fails the tag. Free of Node
 * specifics: the browser SDK seals with the same bytes.
 */
import { AAD_LENGTH } from './constants.js';

/** The header fields that are authenticated; `length` is not (it is implied by the body). */
export interface AadFields {
  version?: number;
  seq: number;
  command: number;
  flag: number;
  status: number;
}

/** Header bytes 4..11 exactly as encodeHeader writes them (big-endian seq). */
export function frameAad(h: AadFields): Uint8Array {
  const out = new Uint8Array(AAD_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint8(0, h.version ?? 1);
  view.setUint32(1, h.seq);
  view.setUint8(5, h.command);
  view.setUint8(6, h.flag);
  view.setUint8(7, h.status);
  return out;
}
