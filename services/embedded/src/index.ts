export {
  DEV_ADMIN_SECRET_FILE,
  DEV_SECRET_FILE,
  devSecretPath,
  readOrCreateDevSecret,
} from './dev-secret.js';
export { DEV_SERVER_KEY_FILE, devServerKeyPath, readOrCreateDevServerKeys } from './dev-server-key.js';
export { DB_FILE, type EmbeddedOptions, type EmbeddedServer, startEmbedded } from './server.js';
