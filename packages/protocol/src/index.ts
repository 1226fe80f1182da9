export * from './compression.js';
export * from './crypto/index.js';
export * from './portable.js';
