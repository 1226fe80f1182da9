/**
 * Sizes and labels of the frame encryption of protocol.md §2 (AES (1), RSA (2)). Named once, so
 * the server, the SDK, the test vectors and docs/security.md cannot disagree.
 */

/** The session secret an RSA LOGIN carries (protocol.md §2 RSA): 32 random bytes. */
export const SESSION_SECRET_LENGTH = 32;
/** AES-256: every key is 32 bytes. */
export const AES_KEY_LENGTH = 32;
/** AES-GCM nonce: 12 random bytes in front of every sealed body. */
export const GCM_NONCE_LENGTH = 12;
/** AES-GCM authentication tag: 16 bytes at the end of every sealed body. */
export const GCM_TAG_LENGTH = 16;
/** nonce ‖ ciphertext ‖ tag: what sealing adds to a body. */
export const AES_OVERHEAD = GCM_NONCE_LENGTH + GCM_TAG_LENGTH;
/** The RSA LOGIN body starts with the length of the wrapped key as a u16 (big-endian). */
export const RSA_KEY_LENGTH_FIELD = 2;
/** protocol.md §2 RSA: the server's key has 2048 bits or more. */
export const MIN_RSA_MODULUS_BITS = 2048;

/** HKDF-SHA256 info strings, one key per direction (protocol.md §2 AES). The salt is empty. */
export const HKDF_INFO_C2S = 'im c2s';
export const HKDF_INFO_S2C = 'im s2c';

/** Additional authenticated data: header bytes 4..11 (version, seq, command, flag, status). */
export const AAD_START = 4;
export const AAD_LENGTH = 8;
