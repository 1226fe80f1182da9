/** Users' end-to-end public keys (protocol.md §5 LoginRequest.publicKey, SPKI DER), read by the admin API. */
export interface PublicKeyStore {
  /** Stores the user's key; the latest login that published one wins. */
  set(userId: string, key: Uint8Array): Promise<void>;
  get(userId: string): Promise<Uint8Array | null>;
}
