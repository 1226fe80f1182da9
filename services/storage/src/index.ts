export { startStorageService } from './service.js';
