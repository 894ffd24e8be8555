// What the app keeps, in IndexedDB: its accounts, each with its device key (an ECDSA P-256
// key made non-extractable, so no script can read it out, only sign with it) and its secrets
// (the device credential and the TOTP seed), sealed with AES-GCM under one non-extractable
// key kept beside them.

const DB = 'tessera-authenticator';
const ACCOUNTS = 'accounts';
const KEYS = 'keys';

let opened = null;

function open() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(ACCOUNTS, { keyPath: 'id' });
      request.result.createObjectStore(KEYS);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(store, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = work(tx.objectStore(store));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Every account, oldest first. */
export async function accounts() {
  const all = await run(ACCOUNTS, 'readonly', (s) => s.getAll());
  return (all || []).sort((a, b) => a.added_at - b.added_at);
}

export function saveAccount(account) {
  return run(ACCOUNTS, 'readwrite', (s) => s.put(account));
}

export function deleteAccount(id) {
  return run(ACCOUNTS, 'readwrite', (s) => s.delete(id));
}

/** The sealing key, made on first use. */
async function sealingKey() {
  const found = await run(KEYS, 'readonly', (s) => s.get('seal'));
  if (found) return found;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  await run(KEYS, 'readwrite', (s) => s.put(key, 'seal'));
  return key;
}

/** `value` (JSON) encrypted under the sealing key, with a fresh 96-bit nonce. */
export async function seal(value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(value));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await sealingKey(), plain);
  return { iv, data };
}

export async function unseal(sealed) {
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: sealed.iv },
    await sealingKey(),
    sealed.data,
  );
  return JSON.parse(new TextDecoder().decode(plain));
}

/** A new device key pair: the private key cannot be exported; the public one as SEC1. */
export async function newDeviceKey() {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicRaw };
}
