import { ImError } from '../errors.js';
import { Status } from '../status.js';

/**
 * A sealed body that does not open: wrong key, tampered header (AAD) or body, truncated input,
 * an RSA block that is not OAEP-SHA256 for this key. protocol.md §2/§3: BAD_REQUEST, then close —
 * the edge wraps it into its closing error; the SDK treats it as a protocol failure.
 */
export class DecryptError extends ImError {
  override readonly name = 'DecryptError';

  constructor(message: string, cause?: unknown) {
    super(Status.BAD_REQUEST, message, { cause });
  }
}
