export { type MessageServiceOptions, startMessageService } from './service.js';
