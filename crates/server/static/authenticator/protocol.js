// The device side of Tessera's notification protocol (docs/design/push-protocol.md), from the
// browser: activation, pending requests, signed answers, removal, and the Web Push
// subscription. Every answer is signed with the device key (ECDSA P-256, "es256"): WebCrypto
// signs as raw r||s, which the server reads as it is.

/** A failed call: `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

async function call(server, path, { method = 'GET', credential, body, signal } = {}) {
  const headers = {};
  if (credential) headers.Authorization = `Bearer ${credential}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${server}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    if (signal && signal.aborted) throw e;
    throw new ApiError(0, 'network', String(e));
  }
  if (response.status === 204) return null;
  const found = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, found?.error || 'server', found?.message);
  }
  return found;
}

export function base64url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text) {
  const plain = atob(String(text).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

async function sign(privateKey, text) {
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    privateKey,
    new TextEncoder().encode(text),
  );
  return base64url(signature);
}

/** The server's clock minus this one's, in seconds, from a response's `server_time`. */
export function offsetFrom(serverTime) {
  const at = Date.parse(serverTime);
  return Number.isNaN(at) ? 0 : Math.round((at - Date.now()) / 1000);
}

/** Now on the server's clock, as last seen. */
export function serverNow(offset) {
  return Math.floor(Date.now() / 1000) + (offset || 0);
}

/** Activates with a one-time code; the server's answer (credential, TOTP seed, …). */
export async function activate(server, code, key, deviceName) {
  return call(server, '/device/activate', {
    method: 'POST',
    body: {
      code,
      algorithm: 'es256',
      public_key: base64url(key.publicRaw),
      proof: await sign(key.privateKey, `tessera-device-activate-v1\n${code}`),
      device_name: deviceName,
    },
  });
}

/** The pending requests, waiting up to `wait` seconds for one. */
export function pending(account, credential, wait, signal) {
  return call(account.server, `/device/requests?wait=${wait}`, { credential, signal });
}

export function request(account, credential, id) {
  return call(account.server, `/device/requests/${encodeURIComponent(id)}`, { credential });
}

/** Answers a request: `approve` with the number, `deny`, or `report`. */
export async function answer(account, credential, id, decision, number) {
  const signedAt = serverNow(account.offset);
  const text = `tessera-push-answer-v1\n${id}\n${decision}\n${number ?? '-'}\n${signedAt}`;
  return call(account.server, `/device/requests/${encodeURIComponent(id)}/answer`, {
    method: 'POST',
    credential,
    body: {
      decision,
      number: number ?? null,
      signed_at: signedAt,
      signature: await sign(account.key, text),
    },
  });
}

/** Tells the server to forget this device: its method is deleted. */
export async function remove(account, credential) {
  const signedAt = serverNow(account.offset);
  const text = `tessera-device-remove-v1\n${account.device_id}\n${signedAt}`;
  return call(account.server, '/device/remove', {
    method: 'POST',
    credential,
    body: { signed_at: signedAt, signature: await sign(account.key, text) },
  });
}

/** Whether the server sends Web Push, and its VAPID key. */
export function webpush(server) {
  return call(server, '/device/webpush');
}

export function subscribe(account, credential, subscription) {
  const json = subscription.toJSON();
  return call(account.server, '/device/webpush', {
    method: 'PUT',
    credential,
    body: { endpoint: json.endpoint, keys: json.keys },
  });
}

export function unsubscribe(account, credential) {
  return call(account.server, '/device/webpush', { method: 'DELETE', credential });
}
