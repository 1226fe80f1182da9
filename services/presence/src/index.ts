export { startPresenceService } from './service.js';
