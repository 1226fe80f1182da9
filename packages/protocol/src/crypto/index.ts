export * from './aad.js';
export * from './aead.js';
export * from './constants.js';
export * from './errors.js';
export * from './rsa.js';
export * from './rsa-login.js';
export * from './session-cipher.js';
export * from './session-keys.js';
