import { MemoryMessageStore } from '../src/store/store.memory.js';
import { messageStoreContract } from './contracts/message-store.contract.js';

messageStoreContract('memory', async () => new MemoryMessageStore());
