/**
 * A tiny IM server for SDK unit tests, written with @im/protocol over node:net on port 0. It keeps
 * one inbox per user (seq = index + 1) and implements just enough of protocol.md §6 — LOGIN, PING,
 * MS (with the idempotency key), MP (inbox and hasMore paging), MPS pushes, the KICKED notify — plus
 * knobs to misbehave: drop connections, ignore a command, push arbitrary frames, stop listening.
 */
import net from 'node:net';
import {
  Command,
  codec,
  encodeFrame,
  Flow,
  type Frame,
  FrameDecoder,
  type Message,
  packFlag,
  Status,
} from '@im/protocol';

export interface FakeSession {
  socket: net.Socket;
  userId: string;
  deviceId: string;
  notifySeq: number;
}

export class FakeServer {
  port = 0;
  readonly inboxes = new Map<string, Message[]>();
  readonly sessions = new Set<FakeSession>();
  /** Every request frame received, in order (command, seq, decoded body for MP). */
  readonly requests: { command: number; seq: number; userId: string; body: Uint8Array }[] = [];
  logins = 0;
  /** Commands the server reads but never answers (timeout tests). */
  readonly silent = new Set<number>();
  /** Tokens refused with UNAUTHORIZED. */
  readonly badTokens = new Set<string>();
  pushOnSend = true;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly acks = new Map<string, { messageUid: bigint; serverTime: number; seq: number }>();
  private uid = 1000n;

  async listen(port = this.port): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Stops listening and drops every connection (the port then refuses). */
  async stop(): Promise<void> {
    this.dropConnections();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.sessions.clear();
  }

  inbox(userId: string): Message[] {
    let box = this.inboxes.get(userId);
    if (!box) {
      box = [];
      this.inboxes.set(userId, box);
    }
    return box;
  }

  /** Appends a stored message to a user's inbox without pushing it; returns it with its seq. */
  store(userId: string, from: string, text: string): Message {
    const box = this.inbox(userId);
    const m = message({ from, to: userId, text, uid: ++this.uid, seq: box.length + 1 });
    box.push(m);
    return m;
  }

  sessionsOf(userId: string): FakeSession[] {
    return [...this.sessions].filter((s) => s.userId === userId);
  }

  /** Sends a notify frame (flow = 2) with the session's own notify counter. */
  notify(session: FakeSession, command: number, body: Uint8Array, status: number = Status.OK): void {
    session.notifySeq++;
    write(session.socket, {
      seq: session.notifySeq,
      command,
      flag: packFlag({ flow: Flow.NOTIFY }),
      status,
      body,
    });
  }

  push(userId: string, m: Message): void {
    for (const s of this.sessionsOf(userId)) this.notify(s, Command.MPS, codec.Message.encode(m));
  }

  kick(userId: string): void {
    for (const s of this.sessionsOf(userId)) {
      this.notify(
        s,
        Command.LOGOUT,
        codec.ErrorInfo.encode({ message: 'logged in on another connection' }),
        Status.KICKED,
      );
      s.socket.end();
    }
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const decoder = new FrameDecoder();
    let session: FakeSession | undefined;
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (session) this.sessions.delete(session);
    });
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        this.requests.push({
          command: frame.command,
          seq: frame.seq,
          userId: session?.userId ?? '',
          body: frame.body,
        });
        if (this.silent.has(frame.command)) continue;
        if (frame.command === Command.LOGIN) {
          session = this.login(socket, frame);
        } else if (session) {
          this.handle(session, frame);
        } else {
          reply(socket, frame, Status.UNAUTHORIZED, codec.ErrorInfo.encode({ message: 'login first' }));
        }
      }
    });
  }

  private login(socket: net.Socket, frame: Frame): FakeSession | undefined {
    const req = codec.LoginRequest.decode(frame.body);
    if (this.badTokens.has(req.token)) {
      reply(
        socket,
        frame,
        Status.UNAUTHORIZED,
        codec.ErrorInfo.encode({ message: 'token signature is invalid' }),
      );
      return undefined;
    }
    this.logins++;
    const session: FakeSession = { socket, userId: req.userId, deviceId: req.deviceId, notifySeq: 0 };
    this.sessions.add(session);
    const head = this.inbox(req.userId).length;
    reply(
      socket,
      frame,
      Status.OK,
      codec.LoginResponse.encode({
        serverTime: Date.now(),
        heartbeatSeconds: 30,
        head,
        sessionId: `s${this.logins}`,
      }),
    );
    return session;
  }

  private handle(session: FakeSession, frame: Frame): void {
    switch (frame.command) {
      case Command.PING:
        reply(session.socket, frame, Status.OK);
        return;
      case Command.LOGOUT:
        session.socket.end();
        return;
      case Command.MP: {
        const req = codec.PullRequest.decode(frame.body);
        const limit = req.limit || 100;
        const box = this.inbox(session.userId);
        const messages = box.filter((m) => m.seq > req.since).slice(0, limit);
        const last = messages.at(-1)?.seq ?? req.since;
        const body = codec.PullResponse.encode({ messages, head: box.length, hasMore: last < box.length });
        reply(session.socket, frame, Status.OK, body);
        return;
      }
      case Command.MS:
        this.send(session, frame);
        return;
      default:
        reply(
          session.socket,
          frame,
          Status.UNSUPPORTED,
          codec.ErrorInfo.encode({ message: 'not in the fake' }),
        );
    }
  }

  /** protocol.md §6 Send: store in both inboxes, ack, then push to the recipient (not the sender's device). */
  private send(session: FakeSession, frame: Frame): void {
    const m = codec.Message.decode(frame.body);
    const key = `${session.userId}/${session.deviceId}/${m.messageId}`;
    const known = this.acks.get(key);
    if (known) {
      reply(session.socket, frame, Status.OK, codec.SendAck.encode(known));
      return;
    }
    const to = m.conversation?.target ?? '';
    const uid = ++this.uid;
    const serverTime = Date.now();
    const stored = (box: Message[]): Message => {
      const copy = { ...m, from: session.userId, to, messageUid: uid, serverTime, seq: box.length + 1 };
      box.push(copy);
      return copy;
    };
    const forRecipient = stored(this.inbox(to));
    const own = stored(this.inbox(session.userId));
    const ack = { messageUid: uid, serverTime, seq: own.seq };
    this.acks.set(key, ack);
    reply(session.socket, frame, Status.OK, codec.SendAck.encode(ack));
    if (this.pushOnSend) this.push(to, forRecipient);
  }
}

export function message(p: { from: string; to: string; text: string; uid: bigint; seq: number }): Message {
  return {
    messageId: 1n,
    messageContent: {
      contentType: 1,
      searchableContent: p.text,
      pushContent: '',
      data: new Uint8Array(0),
      mentionedType: 0,
      mentionedTargets: [],
      mediaType: 0,
      msgLength: 0,
      remoteMediaUrl: '',
      localMediaPath: '',
    },
    conversation: { type: 0, target: p.to },
    from: p.from,
    to: p.to,
    messageUid: p.uid,
    serverTime: Date.now(),
    seq: p.seq,
  };
}

function write(socket: net.Socket, f: Omit<Frame, 'version'>): void {
  const [header, body] = encodeFrame(f);
  socket.cork();
  socket.write(header);
  socket.write(body);
  socket.uncork();
}

function reply(socket: net.Socket, req: Frame, status: number, body: Uint8Array = new Uint8Array(0)): void {
  write(socket, {
    seq: req.seq,
    command: req.command,
    flag: packFlag({ flow: Flow.RESPONSE }),
    status,
    body,
  });
}
