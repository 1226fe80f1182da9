/**
 * Frame header layout and limits (protocol.md §1, §2). Every offset the codec touches is named here,
 * so the header encoder, the streaming decoder and the docs cannot disagree.
 */

/** Fixed header size; `len` does NOT count it (protocol.md §1). */
export const HEADER_LENGTH = 12;

/** u32 body length in bytes, as it travels (after compression and encryption). */
export const OFFSET_LENGTH = 0;
/** u8 protocol version. */
export const OFFSET_VERSION = 4;
/** u32 sequence number. */
export const OFFSET_SEQ = 5;
/** u8 command (protocol.md §4). */
export const OFFSET_COMMAND = 9;
/** u8 connect flag (protocol.md §2). */
export const OFFSET_FLAG = 10;
/** u8 status: 0 in requests, the result code in responses (protocol.md §3). */
export const OFFSET_STATUS = 11;

/** The only version this implementation speaks; any other gets UNSUPPORTED and a close (protocol.md §1). */
export const PROTOCOL_VERSION = 1;

/** Default body limit, before and after decompression (protocol.md §1); configurable per decoder. */
export const DEFAULT_MAX_BODY_LENGTH = 1024 * 1024;

/** Largest value of the u32 fields `seq` and `len`. */
export const MAX_SEQ = 0xffffffff;
export const MAX_BODY_LENGTH_FIELD = 0xffffffff;
/** Largest value of the u8 fields (version, command, flag, status). */
export const MAX_U8 = 0xff;

// Connect flag bits (protocol.md §2): 7-6 reserved, 5-4 compression, 3-2 encrypt, 1-0 flow.
export const FLAG_RESERVED_SHIFT = 6;
export const FLAG_COMPRESSION_SHIFT = 4;
export const FLAG_ENCRYPT_SHIFT = 2;
export const FLAG_FLOW_SHIFT = 0;
/** Each flag part is two bits wide. */
export const FLAG_PART_MASK = 0b11;
export const FLAG_RESERVED_MASK = FLAG_PART_MASK << FLAG_RESERVED_SHIFT;
export const FLAG_COMPRESSION_MASK = FLAG_PART_MASK << FLAG_COMPRESSION_SHIFT;
export const FLAG_ENCRYPT_MASK = FLAG_PART_MASK << FLAG_ENCRYPT_SHIFT;
export const FLAG_FLOW_MASK = FLAG_PART_MASK << FLAG_FLOW_SHIFT;
