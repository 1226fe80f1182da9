import { describe, expect, it } from 'vitest';
import {
  Command,
  commandName,
  DEFAULT_MAX_BODY_LENGTH,
  decodeHeader,
  encodeFrame,
  encodeHeader,
  frameToBytes,
  HEADER_LENGTH,
  isKnownCommand,
  MAX_SEQ,
  OFFSET_COMMAND,
  OFFSET_FLAG,
  OFFSET_LENGTH,
  OFFSET_SEQ,
  OFFSET_STATUS,
  OFFSET_VERSION,
  PROTOCOL_VERSION,
  STATUS_CATALOG,
  Status,
  statusName,
} from '../src/index.js';

describe('header layout (protocol.md §1)', () => {
  it('names the offsets and limits of the contract', () => {
    expect([HEADER_LENGTH, OFFSET_LENGTH, OFFSET_VERSION, OFFSET_SEQ]).toEqual([12, 0, 4, 5]);
    expect([OFFSET_COMMAND, OFFSET_FLAG, OFFSET_STATUS, PROTOCOL_VERSION]).toEqual([9, 10, 11, 1]);
    expect(DEFAULT_MAX_BODY_LENGTH).toBe(1 << 20);
    expect(MAX_SEQ).toBe(2 ** 32 - 1);
  });

  it('writes every field big-endian at its offset', () => {
    const h = encodeHeader({
      seq: 0x01020304,
      command: 0x05,
      flag: 0x06,
      status: 0x07,
      bodyLength: 0x0a0b0c0d,
    });
    expect(Array.from(h)).toEqual([0x0a, 0x0b, 0x0c, 0x0d, 1, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
  });

  it('reads what it wrote, at an offset too', () => {
    const h = encodeHeader({
      version: 9,
      seq: MAX_SEQ,
      command: 255,
      flag: 0x3f,
      status: 11,
      bodyLength: 2 ** 32 - 1,
    });
    const padded = new Uint8Array(20);
    padded.set(h, 5);
    const expected = { length: 2 ** 32 - 1, version: 9, seq: MAX_SEQ, command: 255, flag: 0x3f, status: 11 };
    expect(decodeHeader(h)).toEqual(expected);
    expect(decodeHeader(padded, 5)).toEqual(expected);
    expect(decodeHeader(padded.subarray(5))).toEqual(expected);
  });

  it('refuses a short header and out-of-range fields instead of wrapping', () => {
    expect(() => decodeHeader(new Uint8Array(11))).toThrow(RangeError);
    expect(() => decodeHeader(new Uint8Array(12), 1)).toThrow(RangeError);
    const ok = { seq: 1, command: 1, flag: 0, status: 0, bodyLength: 0 };
    expect(() => encodeHeader({ ...ok, seq: 2 ** 32 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...ok, seq: -1 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...ok, command: 256 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...ok, flag: 1.5 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...ok, status: -1 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...ok, version: 256 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...ok, bodyLength: 2 ** 32 })).toThrow(RangeError);
  });

  it('encodeFrame keeps header and body apart and does not copy the body', () => {
    const body = new Uint8Array([1, 2, 3]);
    const [header, out] = encodeFrame({ seq: 4, command: Command.MS, flag: 0, status: 0, body });
    expect(out).toBe(body);
    expect(decodeHeader(header)).toEqual({ length: 3, version: 1, seq: 4, command: 4, flag: 0, status: 0 });
    expect(Array.from(frameToBytes({ seq: 4, command: 4, flag: 0, status: 0, body }))).toEqual([
      ...header,
      1,
      2,
      3,
    ]);
  });
});

describe('commands and statuses (protocol.md §3, §4)', () => {
  it('numbers the commands as the contract does', () => {
    expect(Command).toEqual({
      RESERVED: 0,
      LOGIN: 1,
      LOGOUT: 2,
      PING: 3,
      MS: 4,
      MP: 5,
      MN: 6,
      MR: 7,
      MPS: 8,
      CRJ: 9,
      CRQ: 10,
    });
    expect(commandName(8)).toBe('MPS');
    expect(commandName(11)).toBe('UNKNOWN(11)');
    expect(isKnownCommand(10)).toBe(true);
    expect(isKnownCommand(11)).toBe(false);
  });

  it('keeps Status and STATUS_CATALOG in step', () => {
    expect(STATUS_CATALOG.map((s) => [s.name, s.code])).toEqual(Object.entries(Status));
    expect(STATUS_CATALOG.map((s) => s.code)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const s of STATUS_CATALOG) expect(s.meaning.length).toBeGreaterThan(0);
    expect(statusName(Status.FRAME_TOO_LARGE)).toBe('FRAME_TOO_LARGE');
    expect(statusName(99)).toBe('UNKNOWN(99)');
  });
});
