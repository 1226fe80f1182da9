import { describe, expect, it } from 'vitest';
import { MemoryChatroomDirectory } from '../src/chatrooms/directory.memory.js';
import { MemoryChatroomRegistry } from '../src/chatrooms/registry.memory.js';
import { ManualClock } from '../src/clock.js';
import { MemoryGroupDirectory } from '../src/groups.js';
import { chatroomDirectoryContract } from './contracts/chatroom-directory.contract.js';
import { chatroomRegistryContract } from './contracts/chatroom-registry.contract.js';
import { groupDirectoryContract } from './contracts/group-directory.contract.js';

chatroomRegistryContract('memory', async ({ ttlMs }) => new MemoryChatroomRegistry({ ttlMs }));
chatroomDirectoryContract('memory', async () => new MemoryChatroomDirectory());
groupDirectoryContract('memory', async () => new MemoryGroupDirectory());

describe('MemoryChatroomRegistry', () => {
  it('expires by its injected clock and forgets empty rooms', async () => {
    const clock = new ManualClock();
    const reg = new MemoryChatroomRegistry({ ttlMs: 1000, clock });
    await reg.join('r', { userId: 'u', deviceId: 'd', nodeId: 'n', epoch: 1 });
    clock.advance(999);
    expect(await reg.nodes('r')).toEqual(['n']);
    clock.advance(1);
    expect(await reg.nodes('r')).toEqual([]);
    expect((reg as unknown as { rooms: Map<string, unknown> }).rooms.size).toBe(0);
  });
});
