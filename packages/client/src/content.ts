/** Helpers for building and reading message contents (protocol.md §5 MessageContent). */
import {
  ContentType,
  type Conversation,
  ConversationType,
  type Message,
  type MessageContent,
} from '@im/protocol/portable';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export const single = (userId: string): Conversation => ({ type: ConversationType.SINGLE, target: userId });
export const group = (groupId: string): Conversation => ({ type: ConversationType.GROUP, target: groupId });
export const chatroom = (roomId: string): Conversation => ({
  type: ConversationType.CHATROOM,
  target: roomId,
});

/** A TEXT content: the text is the searchable content and, UTF-8 encoded, the data. */
export function textContent(text: string): Partial<MessageContent> {
  return { contentType: ContentType.TEXT, searchableContent: text, data: utf8.encode(text) };
}

/** The readable text of a message: searchableContent, else its data as UTF-8 (empty for binary kinds). */
export function messageText(m: Pick<Message, 'messageContent'>): string {
  const c = m.messageContent;
  if (!c) return '';
  if (c.searchableContent) return c.searchableContent;
  if (c.contentType === ContentType.TEXT && c.data.length > 0) return utf8Decoder.decode(c.data);
  return '';
}

/** protocol.md §5: a RECALL content's data is the recalled messageUid as 8 bytes big-endian. */
export function recalledUid(m: Pick<Message, 'messageContent'>): bigint | undefined {
  const c = m.messageContent;
  if (!c || c.contentType !== ContentType.RECALL || c.data.length !== 8) return undefined;
  return new DataView(c.data.buffer, c.data.byteOffset, 8).getBigUint64(0);
}
