// Web Push: the browser's push service wakes the service worker, which shows "Approve
// sign-in?". One subscription serves the app; it carries one server's VAPID key, so it
// serves the accounts of that server (usually the app's own). Any other account, and any
// browser that cannot subscribe (no push service, permission refused), still gets its
// requests by the long poll while the app is open, and the app says so.

import * as api from './protocol.js';

const SUBSCRIBE_TIMEOUT_MS = 15000;

function sameKey(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function within(ms, promise) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms)),
  ]);
}

/**
 * Subscribes and registers the subscription for `account`: 'on', or 'off' when it cannot.
 * `vapidKey` is the activation's (undefined: ask the server); `permission` a promise of the
 * notification permission (undefined: as it stands, without asking).
 */
export async function setupPush(account, credential, vapidKey, permission) {
  try {
    if (!('serviceWorker' in navigator) || !('PushManager' in window)) return 'off';
    let key = vapidKey;
    if (key === undefined) {
      const info = await api.webpush(account.server);
      key = info && info.available ? info.vapid_public_key : null;
    }
    if (!key) return 'off';
    const allowed = await (permission || Promise.resolve(window.Notification?.permission));
    if (allowed !== 'granted') return 'off';
    const registration = await within(SUBSCRIBE_TIMEOUT_MS, navigator.serviceWorker.ready);
    const applicationServerKey = api.fromBase64url(key);
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
      return 'off';
    }
    subscription ??= await within(
      SUBSCRIBE_TIMEOUT_MS,
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey }),
    );
    await api.subscribe(account, credential, subscription);
    return 'on';
  } catch {
    return 'off';
  }
}

/** The status line's message key: notifications off for some account, or null. */
export function pushStatus(accounts) {
  const active = accounts.filter((a) => !a.removed);
  if (!active.length) return null;
  return active.some((a) => a.push !== 'on') ? 'push-off' : 'push-on';
}

/** Stops pushes for an account being removed; drops the subscription when none needs it. */
export async function dropPush(account, credential, accounts) {
  if (account.push !== 'on') return;
  await api.unsubscribe(account, credential).catch(() => {});
  const others = accounts.some((a) => a.id !== account.id && a.push === 'on' && !a.removed);
  if (others || !('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration('/authenticator/');
  const subscription = await registration?.pushManager.getSubscription();
  await subscription?.unsubscribe().catch(() => {});
}
