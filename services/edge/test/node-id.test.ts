import { describe, expect, it } from 'vitest';
import { edgeNodeId } from '../src/node-id.js';

describe('edgeNodeId', () => {
  it('uses IM_NODE_ID as given', () => {
    expect(edgeNodeId('edge-7', 'host')).toEqual({ nodeId: 'edge-7', generated: false });
  });

  it('generates a topic-safe id from the hostname, different per process', () => {
    const a = edgeNodeId('', 'my host.example/ü');
    const b = edgeNodeId('', 'my host.example/ü');
    expect(a.generated).toBe(true);
    expect(a.nodeId).toMatch(/^my-host\.example-[0-9a-f]{8}$/);
    expect(a.nodeId).not.toBe(b.nodeId);
    expect(edgeNodeId('', '///').nodeId).toMatch(/^edge-[0-9a-f]{8}$/);
  });
});
