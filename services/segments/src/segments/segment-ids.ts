import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** "seg_" + 20 random base32 characters (100 bits): unguessable and never reused. */
export function newSegmentId(): string {
  const bytes = randomBytes(20);
  let id = 'seg_';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return id;
}
