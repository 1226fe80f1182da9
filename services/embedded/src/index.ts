export { DEV_SECRET_FILE, devSecretPath, readOrCreateDevSecret } from './dev-secret.js';
export { type EmbeddedOptions, type EmbeddedServer, startEmbedded } from './server.js';
