import { createServer } from 'node:net';
import type { Caller, StoredMessage } from '@im/core';
import { ImError, type MessageContent } from '@im/protocol';
import { expect } from 'vitest';

export const U64_MAX = (1n << 64n) - 1n;

/** Every byte value once: proves bytes fields travel untouched. */
export const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

export function caller(userId: string, deviceId = 'phone', epoch = 1): Caller {
  return { userId, deviceId, nodeId: 'edge-1', epoch };
}

export function content(over: Partial<MessageContent> = {}): MessageContent {
  return {
    contentType: 1,
    searchableContent: 'hello',
    pushContent: 'hello!',
    data: new Uint8Array([1, 2, 3]),
    mentionedType: 0,
    mentionedTargets: [],
    mediaType: 0,
    msgLength: 5,
    remoteMediaUrl: '',
    localMediaPath: '',
    ...over,
  };
}

export function stored(over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    uid: 1n,
    messageId: 1n,
    from: 'alice',
    fromDevice: 'phone',
    to: 'bob',
    conversation: { type: 0, target: 'bob' },
    content: content(),
    serverTime: 1_700_000_000_000,
    e2e: false,
    ...over,
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Awaits the rejection and checks it is an ImError with this status; returns it and the elapsed ms. */
export async function rejectsWith(
  p: Promise<unknown>,
  status: number,
): Promise<{ err: ImError; ms: number }> {
  const t0 = performance.now();
  const err = await p.then(
    () => {
      throw new Error(`expected a rejection with status ${status}`);
    },
    (e: unknown) => e,
  );
  const ms = performance.now() - t0;
  expect(err).toBeInstanceOf(ImError);
  expect((err as ImError).status).toBe(status);
  return { err: err as ImError, ms };
}
