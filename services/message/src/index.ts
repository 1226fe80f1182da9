export { startMessageService } from './service.js';
