export { type PresenceServiceOptions, startPresenceService } from './service.js';
