// Password hashing with scrypt from node:crypto: memory-hard, no native addon to build or download.
// Stored format: scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>, so the cost can be raised later and old
// hashes still verify with the parameters they were made with.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_BYTES = 16;
/** N=2^15, r=8: about 32 MiB and ~50 ms per hash on this class of machine. */
export const DEFAULT_SCRYPT_COST = { N: 1 << 15, r: 8, p: 1 } as const;

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes, with headroom.
    scryptCallback(
      password,
      salt,
      KEY_LENGTH,
      { ...options, maxmem: 256 * (options.N ?? 1) * (options.r ?? 8) },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(
  password: string,
  cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT_COST,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, hashB64] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const actual = await scrypt(password, Buffer.from(saltB64, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
