/**
 * Per-connection rate limits (protocol.md §6 Limits and abuse, §3 TOO_MANY_REQUESTS): one token
 * bucket for frames per second, one for bytes per second (header + body as received). A frame is
 * judged when it ARRIVES (not when the serial queue reaches it), and the verdict is kept until
 * dispatch answers it in order. A refused frame is not handled and costs no tokens.
 *
 * "Byte limits count the body after decompression as well as on the wire": a gzip body is charged
 * again, at its inflated size, when dispatch has inflated it (inflated()); if the byte bucket
 * cannot pay, that frame is refused like any other and gives back what it cost on arrival. So a
 * few KB of gzip buy no more storage or fan-out than their inflated size allows.
 *
 * Persistent abuse: a client still being refused `abuseCloseMs` after the first TOO_MANY_REQUESTS
 * of an episode is answered and then closed (protocol.md §3). An episode ends after one quiet second
 * without a refusal, so a client that slows down to its limit is never closed.
 */
import { type Config, TokenBucket } from '@im/core';
import { type Frame, HEADER_LENGTH, ImError, Status } from '@im/protocol';
import { ClosingError } from '../errors.js';

/** One function for every guard (a default parameter's arrow would be a closure per connection). */
const monotonicNow = (): number => performance.now();

/** A refusal-free gap this long ends an abuse episode. */
export const ABUSE_QUIET_MS = 1_000;

type RateLimits = Pick<
  Config['edge'],
  'rateFramesPerSecond' | 'rateFramesBurst' | 'rateBytesPerSecond' | 'rateBytesBurst' | 'abuseCloseMs'
>;

export class RateGuard {
  private readonly frames: TokenBucket | null;
  private readonly bytes: TokenBucket | null;
  /** Refused frames until dispatch answers them; made at the first refusal (most never have one). */
  private verdicts: WeakMap<Frame, ImError> | null = null;
  private abuseSince: number | null = null;
  private lastRefusal = 0;

  constructor(
    private readonly limits: RateLimits,
    private readonly clock: () => number = monotonicNow,
  ) {
    const now = clock();
    this.frames =
      limits.rateFramesPerSecond > 0
        ? new TokenBucket(limits.rateFramesPerSecond, Math.max(1, limits.rateFramesBurst), now)
        : null;
    this.bytes =
      limits.rateBytesPerSecond > 0
        ? new TokenBucket(limits.rateBytesPerSecond, Math.max(1, limits.rateBytesBurst), now)
        : null;
  }

  private refused(frame: Frame, err: ImError): void {
    this.verdicts ??= new WeakMap();
    this.verdicts.set(frame, err);
  }

  /** Called as the frame arrives. */
  admit(frame: Frame): void {
    if (!this.frames && !this.bytes) return;
    const now = this.clock();
    const size = HEADER_LENGTH + frame.body.length;
    // Check both before taking from either, so a refused frame costs nothing.
    if (this.frames && !this.frames.take(1, now)) {
      this.refused(frame, this.refusal(now, this.frames.waitMs(1, now), this.framesLimit()));
    } else if (this.bytes && !this.bytes.take(size, now)) {
      // Give back the frame token just taken: the frame is refused after all.
      this.frames?.refund(1);
      this.refused(frame, this.refusal(now, this.bytes.waitMs(size, now), this.bytesLimit()));
    }
  }

  /**
   * A gzip frame's body was inflated to `inflatedBytes` (dispatch.ts): those bytes are charged too.
   * Null when paid; else the refusal, and the frame's arrival cost (its frame token and wire bytes)
   * is given back, as for a frame refused on arrival.
   */
  inflated(frame: Frame, inflatedBytes: number): ImError | null {
    if (!this.bytes) return null;
    const now = this.clock();
    if (this.bytes.take(inflatedBytes, now)) return null;
    this.frames?.refund(1);
    this.bytes.refund(HEADER_LENGTH + frame.body.length);
    return this.refusal(
      now,
      this.bytes.waitMs(inflatedBytes, now),
      `${this.bytesLimit()} (${inflatedBytes} bytes once inflated)`,
    );
  }

  private framesLimit(): string {
    return `${this.limits.rateFramesPerSecond} frames/s`;
  }

  private bytesLimit(): string {
    return `${this.limits.rateBytesPerSecond} bytes/s`;
  }

  /** TOO_MANY_REQUESTS; closing once the client kept being refused for abuseCloseMs (protocol.md §3). */
  private refusal(now: number, waitMs: number, what: string): ImError {
    if (this.abuseSince === null || now - this.lastRefusal > ABUSE_QUIET_MS) this.abuseSince = now;
    this.lastRefusal = now;
    const abusive = now - this.abuseSince >= this.limits.abuseCloseMs;
    const message = abusive
      ? `rate limit of ${what} exceeded for ${this.limits.abuseCloseMs} ms; closing`
      : `rate limit of ${what} exceeded; retry after ${waitMs} ms`;
    const opts = { retryAfterMs: waitMs };
    return abusive
      ? new ClosingError(Status.TOO_MANY_REQUESTS, message, opts)
      : new ImError(Status.TOO_MANY_REQUESTS, message, opts);
  }

  /** The refusal recorded for this frame at arrival, or null if it may be handled. */
  verdict(frame: Frame): ImError | null {
    return this.verdicts?.get(frame) ?? null;
  }
}
