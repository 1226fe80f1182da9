import { randomBytes } from 'node:crypto';
import { ContentType, ConversationType, type MessageContent } from '@im/protocol';
import type { Conversation, StoredMessage } from '../src/ports.js';

/** A prefix unique to this test, so suites can share a real database or broker. */
export const unique = (label = 't'): string => `${label}-${randomBytes(5).toString('hex')}`;

export function content(over: Partial<MessageContent> = {}): MessageContent {
  return {
    contentType: ContentType.TEXT,
    searchableContent: 'hello',
    pushContent: 'push: hello',
    data: new Uint8Array([1, 2, 3]),
    mentionedType: 0,
    mentionedTargets: [],
    mediaType: 0,
    msgLength: 0,
    remoteMediaUrl: '',
    localMediaPath: '',
    ...over,
  };
}

export const single = (target: string): Conversation => ({ type: ConversationType.SINGLE, target });
export const group = (target: string): Conversation => ({ type: ConversationType.GROUP, target });

export function stored(over: Partial<StoredMessage> & Pick<StoredMessage, 'uid' | 'from'>): StoredMessage {
  return {
    messageId: 0n,
    fromDevice: 'dev-1',
    to: '',
    conversation: single('nobody'),
    content: content(),
    serverTime: Date.now(),
    e2e: false,
    ...over,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until check() returns true or throws after timeoutMs. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
