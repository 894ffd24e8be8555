// Sign-in codes (RFC 6238) with WebCrypto's HMAC, on the server's clock.

/** RFC 4648 base32, without padding, as the server hands the seed over. */
export function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = String(text).toUpperCase().replace(/[^A-Z2-7]/g, '');
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of clean) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

const HASHES = { SHA1: 'SHA-1', SHA256: 'SHA-256', SHA512: 'SHA-512' };

/** An HMAC key for the seed, kept in memory only and not extractable. */
export function hmacKey(seed, algorithm) {
  const hash = HASHES[String(algorithm || 'SHA1').toUpperCase()] || 'SHA-1';
  return crypto.subtle.importKey('raw', seed, { name: 'HMAC', hash }, false, ['sign']);
}

/** The code of the time step `counter`. */
export async function codeAt(key, digits, counter) {
  const message = new Uint8Array(8);
  let rest = counter;
  for (let i = 7; i >= 0; i--) {
    message[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, message));
  const at = mac[mac.length - 1] & 0x0f;
  const number =
    ((mac[at] & 0x7f) << 24) | (mac[at + 1] << 16) | (mac[at + 2] << 8) | mac[at + 3];
  return String(number % 10 ** digits).padStart(digits, '0');
}
