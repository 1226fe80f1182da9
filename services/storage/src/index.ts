export { type StorageServiceOptions, startStorageService } from './service.js';
