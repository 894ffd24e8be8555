// The Tessera authenticator's service worker: it keeps the app's files for offline use (the
// codes work without a connection), shows "Approve sign-in?" when a Web Push arrives, and
// opens the number screen when the notification is tapped. The server fills in the version,
// the language and the list of files when it serves this script.
'use strict';

const VERSION = "__VERSION__";
const LANG = "__LANG__";
const SHELL = ["__SHELL__"];
const CACHE = `tessera-authenticator-${VERSION}`;
const APP = '/authenticator/';

importScripts('/authenticator/browser_name.js');

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith('tessera-authenticator-') && k !== CACHE)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === APP) {
    // The page from the network when online (a new version, another language), else kept.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(APP, copy));
          }
          return response;
        })
        .catch(() => caches.match(APP)),
    );
    return;
  }
  if (!SHELL.includes(url.pathname + url.search)) return;
  event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
});

async function words() {
  const url = `${APP}messages.json?lang=${LANG}`;
  try {
    const response = (await caches.match(url)) || (await fetch(url));
    return await response.json();
  } catch {
    return {};
  }
}

function fill(pattern, args) {
  return String(pattern || '').replace(/\{\s*\$(\w+)\s*\}/g, (_, name) => String(args[name] ?? ''));
}

function browserOf(ua, w) {
  const found = self.tesseraBrowserName(ua);
  if (!found.browser) return w['unknown-browser'] || '';
  return found.os ? fill(w['device-name'], { browser: found.browser, os: found.os }) : found.browser;
}

/** Shows (or, for `closed`, takes back) the notification of a push's request. */
async function onPush(data) {
  if (!data || data.v !== 1) return;
  if (data.type === 'closed') {
    // Browsers expect every push to show something: the request's notification is replaced
    // by a quiet one that says it needs nothing more, rather than closed without a word.
    const shown = await self.registration.getNotifications({ tag: data.request_id });
    if (shown.length === 0) return;
    const w = await words();
    await self.registration.showNotification('Tessera', {
      body: w['notification-answered'] || '',
      tag: data.request_id,
      silent: true,
      icon: `${APP}icon-192.png`,
      lang: LANG,
    });
    return;
  }
  if (data.type !== 'request' || !data.request) return;
  const w = await words();
  const r = data.request;
  await self.registration.showNotification(w['notification-title'] || 'Tessera', {
    body: fill(w.from, { app: r.app, browser: browserOf(r.user_agent, w) }),
    tag: r.id,
    renotify: true,
    requireInteraction: true,
    icon: `${APP}icon-192.png`,
    lang: LANG,
    timestamp: Date.parse(r.created_at) || Date.now(),
    data: { server: data.server, device_id: data.device_id, request_id: r.id },
  });
  // An open app hears of it too (it also long-polls).
  const windows = await self.clients.matchAll({ type: 'window' });
  for (const w of windows) w.postMessage({ type: 'request', device_id: data.device_id });
}

/** Opens the number screen of a tapped notification: in the open app, else a new window. */
async function openRequest(data) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const app = windows.find((c) => new URL(c.url).pathname === APP);
  if (app) {
    app.postMessage({ type: 'open-request', device_id: data.device_id, request_id: data.request_id });
    await app.focus().catch(() => {});
    return;
  }
  const hash = new URLSearchParams({ request: data.request_id, device: data.device_id });
  await self.clients.openWindow(`${APP}#${hash}`);
}

// A script-made event (DevTools, tests) cannot extend its lifetime: the work runs anyway.
function keepAlive(event, work) {
  try {
    event.waitUntil(work);
  } catch {
    work.catch(() => {});
  }
}

self.addEventListener('push', (event) => {
  let data = null;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  keepAlive(event, onPush(data));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  keepAlive(event, openRequest(event.notification.data || {}));
});
