import { type Frame, FrameDecoder, type FrameDecoderOptions } from '../src/index.js';

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Frames with bodies copied into plain arrays, so toEqual compares content, not views. */
export function plain(frames: Frame[]): Frame[] {
  return frames.map((f) => ({ ...f, body: new Uint8Array(f.body) }));
}

/** Feeds `chunks` to a fresh decoder and collects every frame. */
export function decodeAll(chunks: Uint8Array[], opts?: FrameDecoderOptions): Frame[] {
  const d = new FrameDecoder(opts);
  return plain(chunks.flatMap((c) => d.push(c)));
}
