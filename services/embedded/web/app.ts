/**
 * The web chat demo's page script (README "Web chat demo"): the browser SDK (@im/client/browser)
 * over WebSocket (protocol.md §1). Log in as a user with a development token from the embedded
 * server (POST /demo/token, services/admin/src/routes/demo.ts), see conversations (from the newest
 * inbox messages, pulled at login), chat live, see typing (TYPING, protocol.md §6 Transient content), recall
 * your own messages (MR), scroll back through history (MP by conversation, paged by beforeUid) and
 * seal new messages end to end (protocol.md §2 End-to-end RSA) with a key made in this browser.
 *
 * Bundled with the SDK into dist/app.js by `pnpm build:web` (services/embedded/web/build.mjs).
 */
import {
  ContentType,
  type Conversation,
  ConversationType,
  ImClient,
  ImStatusError,
  type Message,
  messageText,
  recalledUid,
  type SendResult,
  single,
  textContent,
} from '@im/client/browser';

interface DemoConfig {
  wsPort: number;
  tls: boolean;
  path: string;
}

/** One message as the page shows it. */
interface Shown {
  uid: bigint;
  from: string;
  text: string;
  time: number;
  mine: boolean;
  sealed: boolean;
  recalled: boolean;
}

interface Chat {
  /** The other user (single chats; the only kind this page starts). */
  peer: string;
  conversation: Conversation;
  messages: Shown[];
  unread: number;
  /** History was paged back to the first message. */
  complete: boolean;
  loadingOlder: boolean;
  typingUntil: number;
}

const HISTORY_PAGE = 20;
/** The conversation list starts from this many of the newest inbox messages. */
const RECENT_INBOX = 50;
/** protocol.md §6 Transient content: a TYPING is sent at most this often while typing. */
const TYPING_EVERY_MS = 2_000;
/** How long "… is typing" stays up after the last TYPING. */
const TYPING_SHOWN_MS = 3_500;
const PLATFORM_WEB = 3;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let client: ImClient | null = null;
let me = '';
let current: Chat | null = null;
let lastTypingSent = 0;
const chats = new Map<string, Chat>();

// ---------------------------------------------------------------- login

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void login($<HTMLInputElement>('login-user').value.trim()).catch((err: unknown) => {
    $('login-error').textContent = errorText(err);
  });
});

async function login(userId: string): Promise<void> {
  if (!userId) return;
  $('login-error').textContent = '';
  const config = (await getJson('config.json')) as DemoConfig;
  const key = await ownKey(userId);
  me = userId;
  client = new ImClient({
    host: location.hostname,
    port: config.wsPort,
    tls: config.tls,
    path: config.path,
    userId,
    // One device per tab: two tabs of one user are two devices, not a kick.
    deviceId: tabDeviceId(),
    platform: PLATFORM_WEB,
    clientVersion: 'web-demo',
    // Published at LOGIN, so others can seal for this user; incoming sealed messages are opened with it.
    e2eKey: key,
    // A fresh development token at every (re)connect.
    getToken: async () => ((await postJson('token', { userId })) as { token: string }).token,
  });
  client.on('message', (m) => onMessage(m));
  client.on('disconnect', () => setStatus('reconnecting…', false));
  client.on('reconnect', () => setStatus('connected over WebSocket', true));
  client.on('kicked', () => setStatus('logged in elsewhere', false));
  client.on('error', (err) => showError(err));
  const session = await client.connect();
  await loadRecent(session.head);
  $('me').textContent = userId;
  setStatus('connected over WebSocket', true);
  $('login').hidden = true;
  $('app').hidden = false;
  $<HTMLInputElement>('new-chat-user').focus();
}

$('logout').addEventListener('click', () => {
  void client?.logout().finally(() => location.reload());
});

/** protocol.md §6 sync model: the newest inbox messages (MP since head − N), for the conversation list. */
async function loadRecent(head: number): Promise<void> {
  if (!client) return;
  const page = await client.pull({ since: Math.max(0, head - RECENT_INBOX), limit: RECENT_INBOX });
  for (const m of page.messages) {
    const peer = peerOf(m);
    if (peer !== null) ingest(chatWith(peer), [await client.decrypt(m).catch(() => m)]);
  }
  renderConversations();
}

/** This user's RSA-OAEP key pair, kept in this browser (localStorage) so older sealed messages still open. */
async function ownKey(userId: string): Promise<CryptoKeyPair> {
  const algorithm = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
  const stored = localStorage.getItem(`im-demo-key:${userId}`);
  if (stored) {
    const jwk = JSON.parse(stored) as JsonWebKey;
    const privateKey = await crypto.subtle.importKey('jwk', jwk, algorithm, true, ['decrypt']);
    const publicKey = await crypto.subtle.importKey(
      'jwk',
      { kty: 'RSA', n: jwk.n, e: jwk.e, ext: true },
      algorithm,
      true,
      ['encrypt'],
    );
    return { privateKey, publicKey };
  }
  const pair = await crypto.subtle.generateKey(
    { ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['encrypt', 'decrypt'],
  );
  localStorage.setItem(
    `im-demo-key:${userId}`,
    JSON.stringify(await crypto.subtle.exportKey('jwk', pair.privateKey)),
  );
  return pair;
}

function tabDeviceId(): string {
  let id = sessionStorage.getItem('im-demo-device');
  if (!id) {
    id = `web-${crypto.getRandomValues(new Uint32Array(1))[0]?.toString(36)}`;
    sessionStorage.setItem('im-demo-device', id);
  }
  return id;
}

// ---------------------------------------------------------------- incoming

function onMessage(m: Message): void {
  const peer = peerOf(m);
  if (peer === null) return;
  const chat = chatWith(peer);
  if (m.messageContent?.contentType === ContentType.TYPING) {
    if (m.from === me) return;
    chat.typingUntil = Date.now() + TYPING_SHOWN_MS;
    renderTyping();
    setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
    return;
  }
  const added = ingest(chat, [m]);
  if (added > 0) chat.typingUntil = 0;
  if (chat !== current) chat.unread += added;
  renderConversations();
  if (chat === current) renderMessages(true);
}

/**
 * Takes messages into a chat; returns how many were new. protocol.md §6 Recall: a RECALL notice
 * (data = the recalled uid) marks the original, which is wiped in storage (a RECALL without data)
 * and shows as "recalled" when it comes from a pull.
 */
function ingest(chat: Chat, messages: Message[]): number {
  const fresh: Shown[] = [];
  for (const m of messages) {
    const type = m.messageContent?.contentType;
    if (type === ContentType.TYPING) continue;
    const recalled = type === ContentType.RECALL ? recalledUid(m) : undefined;
    if (recalled !== undefined) {
      const target = chat.messages.find((x) => x.uid === recalled);
      if (target) target.recalled = true;
      continue;
    }
    fresh.push(shown(m));
  }
  const before = chat.messages.length;
  addMessages(chat, fresh);
  return chat.messages.length - before;
}

/** The other user of a single chat; null for what this page does not show (groups, chatrooms). */
function peerOf(m: Message): string | null {
  if (m.conversation?.type !== ConversationType.SINGLE) return null;
  return m.from === me ? (m.conversation.target ?? null) : m.from;
}

function shown(m: Message): Shown {
  const c = m.messageContent;
  return {
    uid: m.messageUid,
    from: m.from,
    text: messageText(m),
    time: m.serverTime,
    mine: m.from === me,
    // The SDK opened it; sealed content travels with empty searchable text (protocol.md §2).
    sealed: c?.contentType === ContentType.TEXT && !c.searchableContent && (c.data?.length ?? 0) > 0,
    recalled: c?.contentType === ContentType.RECALL,
  };
}

function addMessages(chat: Chat, list: Shown[]): void {
  for (const s of list) {
    if (chat.messages.some((x) => x.uid === s.uid)) continue;
    chat.messages.push(s);
  }
  chat.messages.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}

function chatWith(peer: string): Chat {
  let chat = chats.get(peer);
  if (!chat) {
    chat = {
      peer,
      conversation: single(peer),
      messages: [],
      unread: 0,
      complete: false,
      loadingOlder: false,
      typingUntil: 0,
    };
    chats.set(peer, chat);
  }
  return chat;
}

// ---------------------------------------------------------------- conversations

$('new-chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('new-chat-user');
  const peer = input.value.trim();
  if (!peer || peer === me) return;
  input.value = '';
  void open(chatWith(peer));
});

async function open(chat: Chat): Promise<void> {
  current = chat;
  chat.unread = 0;
  $('peer').textContent = chat.peer;
  for (const id of ['text', 'send']) $<HTMLInputElement>(id).disabled = false;
  renderConversations();
  renderMessages(true);
  $<HTMLInputElement>('text').focus();
  if (chat.messages.length < HISTORY_PAGE && !chat.complete) await loadOlder(chat);
}

/** protocol.md §6 Conversation history: newest first, paged by beforeUid. */
async function loadOlder(chat: Chat): Promise<void> {
  if (!client || chat.complete || chat.loadingOlder) return;
  chat.loadingOlder = true;
  try {
    const oldest = chat.messages[0]?.uid;
    const page = await client.history(chat.conversation, {
      ...(oldest === undefined ? {} : { beforeUid: oldest }),
      limit: HISTORY_PAGE,
    });
    // A pull hands out sealed data as stored: opened here with this browser's key.
    const opened = await Promise.all(page.messages.map((m) => client?.decrypt(m).catch(() => m) ?? m));
    if (!page.hasMore) chat.complete = true;
    const box = $('messages');
    const fromBottom = box.scrollHeight - box.scrollTop;
    ingest(chat, opened);
    if (chat === current) {
      renderMessages(false);
      // Keep what was on screen where it was: the older messages appear above it.
      box.scrollTop = box.scrollHeight - fromBottom;
    }
  } catch (err) {
    showError(err);
  } finally {
    chat.loadingOlder = false;
  }
}

$('messages').addEventListener('scroll', () => {
  if (current && $('messages').scrollTop < 40) void loadOlder(current);
});

// ---------------------------------------------------------------- sending

$('text').addEventListener('input', () => {
  if (!client || !current || Date.now() - lastTypingSent < TYPING_EVERY_MS) return;
  lastTypingSent = Date.now();
  client.typing(current.conversation).catch(() => {});
});

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>('text');
  const text = input.value;
  if (!text.trim() || !current) return;
  input.value = '';
  void send(current, text).catch((err: unknown) => {
    input.value = text;
    showError(err);
  });
});

async function send(chat: Chat, text: string): Promise<void> {
  if (!client) return;
  $('chat-error').textContent = '';
  const sealed = $<HTMLInputElement>('e2e').checked;
  let ack: SendResult;
  if (sealed) {
    const key = await peerKey(chat.peer);
    ack = await client.sendEncrypted({
      conversation: chat.conversation,
      content: textContent(text),
      recipientKeys: [key],
    });
  } else {
    ack = await client.send({ conversation: chat.conversation, content: textContent(text) });
  }
  lastTypingSent = 0;
  addMessages(chat, [
    { uid: ack.messageUid, from: me, text, time: ack.serverTime, mine: true, sealed, recalled: false },
  ]);
  renderConversations();
  if (chat === current) renderMessages(true);
}

/** The peer's published public key (SPKI DER), through the demo's key route. */
async function peerKey(peer: string): Promise<Uint8Array> {
  const { publicKey } = (await getJson(`keys/${encodeURIComponent(peer)}`)) as { publicKey: string };
  return Uint8Array.from(atob(publicKey), (c) => c.charCodeAt(0));
}

async function recall(chat: Chat, m: Shown): Promise<void> {
  if (!client) return;
  try {
    await client.recall(m.uid);
    m.recalled = true;
    if (chat === current) renderMessages(false);
  } catch (err) {
    showError(err);
  }
}

// ---------------------------------------------------------------- rendering

function renderConversations(): void {
  const list = $('conversations');
  list.replaceChildren();
  const sorted = [...chats.values()].sort((a, b) => lastTime(b) - lastTime(a));
  for (const chat of sorted) {
    const li = document.createElement('li');
    li.dataset.peer = chat.peer;
    li.className = chat === current ? 'active' : '';
    const name = document.createElement('span');
    name.textContent = chat.peer;
    const last = document.createElement('span');
    last.className = 'last';
    const lastMsg = chat.messages.at(-1);
    last.textContent = lastMsg ? (lastMsg.recalled ? 'recalled' : lastMsg.text) : '';
    li.append(name, last);
    if (chat.unread > 0) {
      const badge = document.createElement('span');
      badge.className = 'unread';
      badge.textContent = String(chat.unread);
      li.append(badge);
    }
    li.addEventListener('click', () => void open(chat));
    list.append(li);
  }
}

function lastTime(chat: Chat): number {
  return chat.messages.at(-1)?.time ?? Number.MAX_SAFE_INTEGER;
}

function renderMessages(toBottom: boolean): void {
  const box = $('messages');
  box.replaceChildren();
  const chat = current;
  if (!chat) return;
  if (chat.complete) {
    const start = document.createElement('li');
    start.className = 'start';
    start.textContent = `beginning of your conversation with ${chat.peer}`;
    box.append(start);
  }
  for (const m of chat.messages) {
    const li = document.createElement('li');
    li.className = `msg${m.mine ? ' mine' : ''}${m.recalled ? ' recalled' : ''}`;
    li.dataset.uid = String(m.uid);
    const text = document.createElement('span');
    text.className = `text${m.sealed && !m.recalled ? ' lock' : ''}`;
    text.textContent = m.recalled ? `${m.mine ? 'You' : m.from} recalled a message` : m.text;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = new Date(m.time).toLocaleTimeString();
    li.append(text);
    if (m.mine && !m.recalled) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'recall';
      button.textContent = 'recall';
      button.addEventListener('click', () => void recall(chat, m));
      li.append(button);
    }
    li.append(meta);
    box.append(li);
  }
  if (toBottom) box.scrollTop = box.scrollHeight;
  renderTyping();
}

function renderTyping(): void {
  const chat = current;
  $('typing').textContent = chat && chat.typingUntil > Date.now() ? `${chat.peer} is typing…` : '';
}

function setStatus(text: string, online: boolean): void {
  const status = $('status');
  status.textContent = text;
  status.className = `status${online ? ' online' : ''}`;
}

function showError(err: unknown): void {
  $('chat-error').textContent = errorText(err);
}

function errorText(err: unknown): string {
  if (err instanceof ImStatusError) return `${err.statusName}: ${err.reason || err.message}`;
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------- the demo's HTTP routes

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(path);
  const body = (await res.json()) as { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${path}: HTTP ${res.status}`);
  return body;
}

async function postJson(path: string, payload: unknown): Promise<unknown> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = (await res.json()) as { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${path}: HTTP ${res.status}`);
  return body;
}
