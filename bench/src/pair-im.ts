/**
 * The pair driver for this project's protocol: a bare `Connection` per end (session.ts). The
 * sender writes MS frames pipelined, the SendAck (the response with the same seq, protocol.md §1)
 * is the ack, and the recipient's MPS is the push; an MN makes the recipient pull with MP
 * (protocol.md §6 Delivery), and a pulled message counts as pushed when the pull returns it.
 */
import {
  Command,
  ContentType,
  type Conversation,
  ConversationType,
  codec,
  Flow,
  type Frame,
  Status,
  statusName,
} from '@im/protocol';
import type { Endpoint } from './args.js';
import type { OpenPair, PairDriver, PairSink, SenderEnd } from './pair-driver.js';
import { type OpenedUser, openUser, userIdOf } from './session.js';

const FLOW_MASK = 0b11;
const PULL_LIMIT = 500;

class ImSender implements SenderEnd {
  /** MS seq → performance.now() when written. */
  readonly #pending = new Map<number, number>();
  readonly #conversation: Conversation;
  #nextMessageId = 1;
  lastWriteAt = performance.now();
  dead = false;

  constructor(
    readonly user: OpenedUser,
    private readonly to: string,
    private readonly sink: PairSink,
  ) {
    this.#conversation = { type: ConversationType.SINGLE, target: to };
    user.conn.on('frame', (f) => this.onFrame(f));
    user.conn.on('close', () => {
      this.dead = true;
    });
  }

  get outstanding(): number {
    return this.#pending.size;
  }

  send(data: Uint8Array, at: number): void {
    const body = codec.Message.encode({
      messageId: BigInt(this.#nextMessageId++),
      messageContent: { contentType: ContentType.TEXT, data },
      conversation: this.#conversation,
      to: this.to,
    });
    const seq = this.user.conn.nextSeq();
    this.#pending.set(seq, at);
    this.lastWriteAt = at;
    this.user.conn.writeFrame({ seq, command: Command.MS, flag: 0, status: Status.OK, body });
  }

  private onFrame(f: Frame): void {
    const flow = f.flag & FLOW_MASK;
    if (flow === Flow.NOTIFY) {
      if (f.command === Command.LOGOUT) this.sink.error('kicked');
      return;
    }
    if (flow !== Flow.RESPONSE || f.command !== Command.MS) return;
    const sentAt = this.#pending.get(f.seq);
    if (sentAt === undefined) return;
    this.#pending.delete(f.seq);
    if (f.status === Status.OK) this.sink.acked(sentAt);
    else this.sink.failed(sentAt, statusName(f.status));
  }
}

class ImRecipient {
  /** Highest inbox seq received by MPS; pulled messages at or below it were pushed already. */
  #maxPushSeq: number;
  #pulledUpTo: number;
  #pulling = false;
  #pullAgain = false;
  lastWriteAt = performance.now();
  dead = false;

  constructor(
    readonly user: OpenedUser,
    private readonly sink: PairSink,
  ) {
    this.#maxPushSeq = user.login.head;
    this.#pulledUpTo = user.login.head;
    user.conn.on('frame', (f) => this.onFrame(f));
    user.conn.on('close', () => {
      this.dead = true;
    });
  }

  private onFrame(f: Frame): void {
    if ((f.flag & FLOW_MASK) !== Flow.NOTIFY) return;
    if (f.command === Command.MPS) {
      const m = codec.Message.decode(f.body);
      if (m.seq > this.#maxPushSeq) this.#maxPushSeq = m.seq;
      this.sink.pushed(m.messageContent?.data);
    } else if (f.command === Command.MN) {
      void this.pull();
    } else if (f.command === Command.LOGOUT) {
      this.sink.error('kicked');
    }
  }

  private async pull(): Promise<void> {
    if (this.#pulling) {
      this.#pullAgain = true;
      return;
    }
    this.#pulling = true;
    try {
      let more = true;
      while ((more || this.#pullAgain) && !this.dead) {
        this.#pullAgain = false;
        this.lastWriteAt = performance.now();
        const res = await this.user.conn.request(
          Command.MP,
          codec.PullRequest.encode({ since: this.#pulledUpTo, limit: PULL_LIMIT }),
        );
        const body = codec.PullResponse.decode(res.body);
        for (const m of body.messages) {
          if (m.seq > this.#pulledUpTo) this.#pulledUpTo = m.seq;
          if (m.seq <= this.#maxPushSeq) continue; // pushed already
          this.sink.pushed(m.messageContent?.data);
        }
        more = body.hasMore;
      }
    } catch (err) {
      if (!this.dead) this.sink.error(`pull: ${(err as Error).message.slice(0, 60)}`);
    } finally {
      this.#pulling = false;
    }
  }
}

export class ImPairDriver implements PairDriver {
  constructor(
    private readonly secret: string,
    private readonly tag: string,
  ) {}

  async openPair(
    index: number,
    senderAt: Endpoint,
    recipientAt: Endpoint,
    sink: PairSink,
  ): Promise<OpenPair> {
    const senderId = userIdOf(`${this.tag}s`, index);
    const recipientId = userIdOf(`${this.tag}r`, index);
    const [s, r] = await Promise.all([
      openUser(senderAt, senderId, this.secret, index),
      openUser(recipientAt, recipientId, this.secret, index),
    ]);
    const sender = new ImSender(s, recipientId, sink);
    const recipient = new ImRecipient(r, sink);
    for (const end of [sender, recipient]) {
      end.user.conn.on('close', () => {
        if (!closing) sink.error('closed');
      });
    }
    let closing = false;
    // protocol.md §6 Heartbeat: a connection that writes nothing for half the period PINGs.
    const halfBeat = (end: ImSender | ImRecipient) =>
      (Math.max(1, end.user.login.heartbeatSeconds) * 1000) / 2;
    return {
      sender,
      keepAlive(now) {
        for (const end of [sender, recipient]) {
          if (!end.dead && now - end.lastWriteAt > halfBeat(end)) {
            end.user.conn.send(Command.PING);
            end.lastWriteAt = now;
          }
        }
      },
      close() {
        closing = true;
        s.conn.close();
        r.conn.close();
      },
    };
  }
}
