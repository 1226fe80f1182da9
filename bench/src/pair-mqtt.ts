/**
 * The pair driver for MQTT 3.1.1 brokers (aedes, Mosquitto), with mqtt-packet as the codec.
 * The equivalent of this project's one-to-one send (docs/benchmarks.md "Peers"):
 *   MS        → PUBLISH QoS 1 to the recipient's own topic `<tag>/<index>`
 *   SendAck   → the PUBACK (the broker has taken the message)
 *   MPS       → the PUBLISH the broker sends to the recipient, subscribed at QoS 1 (the broker
 *               keeps it until the recipient's PUBACK, the nearest MQTT has to an inbox)
 * Clean sessions and keepalive 0 (no PINGREQ needed; the brokers then never time a client out).
 */
import net from 'node:net';
import { generate, type IPublishPacket, type Packet, parser } from 'mqtt-packet';
import type { Endpoint } from './args.js';
import type { OpenPair, PairDriver, PairSink, SenderEnd } from './pair-driver.js';

const PROTOCOL = { protocolId: 'MQTT', protocolVersion: 4 } as const;
const CONNECT_TIMEOUT_MS = 30_000;
/** MQTT packet identifiers are 1..65535 (MQTT 3.1.1 §2.3.1). */
const MAX_PACKET_ID = 0xffff;

interface Client {
  socket: net.Socket;
  /** Resolves with the next packet of this type (CONNACK, SUBACK) or rejects on close/timeout. */
  next(cmd: Packet['cmd']): Promise<Packet>;
  onPacket(handler: (p: Packet) => void): void;
  dead: boolean;
}

function connect(at: Endpoint, clientId: string, sink: PairSink, closing: () => boolean): Promise<Client> {
  return new Promise((ok, fail) => {
    const socket = net.connect({ host: at.host, port: at.port });
    socket.setNoDelay(true);
    const p = parser(PROTOCOL);
    const waiters = new Map<string, (pk: Packet) => void>();
    let handler: ((pk: Packet) => void) | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`MQTT CONNECT to ${at.host}:${at.port} timed out`));
    }, CONNECT_TIMEOUT_MS);
    const client: Client = {
      socket,
      dead: false,
      next: (cmd) =>
        new Promise((resolve, reject) => {
          if (client.dead) reject(new Error('connection closed'));
          waiters.set(cmd, resolve);
        }),
      onPacket: (h) => {
        handler = h;
      },
    };
    p.on('packet', (pk: Packet) => {
      const w = waiters.get(pk.cmd);
      if (w) {
        waiters.delete(pk.cmd);
        w(pk);
      } else handler?.(pk);
    });
    p.on('error', (err: Error) => {
      sink.error(`mqtt parse: ${err.message.slice(0, 40)}`);
      socket.destroy();
    });
    socket.on('data', (chunk) => p.parse(chunk));
    socket.once('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    socket.once('close', () => {
      client.dead = true;
      if (!closing()) sink.error('closed');
    });
    socket.once('connect', () => {
      socket.write(generate({ cmd: 'connect', ...PROTOCOL, clientId, clean: true, keepalive: 0 }));
      client.next('connack').then((pk) => {
        clearTimeout(timer);
        const code = (pk as { returnCode?: number }).returnCode;
        if (code === 0) ok(client);
        else fail(new Error(`MQTT CONNACK refused ${clientId}: return code ${code}`));
      }, fail);
    });
  });
}

class MqttSender implements SenderEnd {
  /** Packet id → performance.now() when written. */
  readonly #pending = new Map<number, number>();
  #nextId = 0;
  lastWriteAt = performance.now();

  constructor(
    private readonly client: Client,
    private readonly topic: string,
    private readonly sink: PairSink,
  ) {
    client.onPacket((pk) => {
      if (pk.cmd !== 'puback' || pk.messageId === undefined) return;
      const sentAt = this.#pending.get(pk.messageId);
      if (sentAt === undefined) return;
      this.#pending.delete(pk.messageId);
      this.sink.acked(sentAt);
    });
  }

  get outstanding(): number {
    return this.#pending.size;
  }

  get dead(): boolean {
    return this.client.dead;
  }

  send(body: Uint8Array, at: number): void {
    this.#nextId = this.#nextId >= MAX_PACKET_ID ? 1 : this.#nextId + 1;
    this.#pending.set(this.#nextId, at);
    this.lastWriteAt = at;
    this.client.socket.write(
      generate({
        cmd: 'publish',
        qos: 1,
        dup: false,
        retain: false,
        messageId: this.#nextId,
        topic: this.topic,
        // mqtt-packet writes the payload later in generate(); a copy keeps the caller's scratch free.
        payload: Buffer.from(body),
      }),
    );
  }
}

export class MqttPairDriver implements PairDriver {
  constructor(private readonly tag: string) {}

  async openPair(
    index: number,
    senderAt: Endpoint,
    recipientAt: Endpoint,
    sink: PairSink,
  ): Promise<OpenPair> {
    let closing = false;
    const isClosing = () => closing;
    const topic = `${this.tag}/${index}`;
    const recipient = await connect(recipientAt, `${this.tag}-r${index}`, sink, isClosing);
    recipient.socket.write(
      generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] } as Packet),
    );
    const suback = await recipient.next('suback');
    const granted = (suback as { granted?: number[] }).granted?.[0];
    if (granted !== 1) throw new Error(`MQTT SUBACK for ${topic}: granted ${granted}, wanted QoS 1`);
    recipient.onPacket((pk) => {
      if (pk.cmd !== 'publish') return;
      const pub = pk as IPublishPacket;
      sink.pushed(typeof pub.payload === 'string' ? undefined : pub.payload);
      if (pub.qos === 1 && pub.messageId !== undefined) {
        recipient.socket.write(generate({ cmd: 'puback', messageId: pub.messageId }));
      }
    });
    const senderClient = await connect(senderAt, `${this.tag}-s${index}`, sink, isClosing);
    const sender = new MqttSender(senderClient, topic, sink);
    return {
      sender,
      keepAlive() {
        // keepalive 0: nothing to do (MQTT 3.1.1 §3.1.2.10).
      },
      close() {
        closing = true;
        for (const c of [senderClient, recipient]) {
          if (!c.dead) c.socket.end(generate({ cmd: 'disconnect' }));
        }
      },
    };
  }
}
