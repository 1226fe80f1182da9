/**
 * Device ids beginning with `server:` are the server's own (RECALL_DEVICE, `server:recall`, sends
 * the recall notice of protocol.md §6 Recall): a client that logged in with one could pass for the
 * server on its user's devices, so LOGIN refuses them (docs/protocol.md §8, docs/security.md Defaults).
 */
export const SERVER_DEVICE_PREFIX = 'server:';

export function isServerDeviceId(deviceId: string): boolean {
  return deviceId.startsWith(SERVER_DEVICE_PREFIX);
}
