// The Tessera authenticator: accounts of one or more Tessera servers, each activated with
// its one-time code; their codes; and sign-in requests answered by typing the number the
// sign-in screen shows. Requests arrive by Web Push when the browser can subscribe, and by
// a long poll whenever the app is open, so a notification is never the only way.

import * as api from './protocol.js';
import * as store from './store.js';
import { parseActivation } from './activation.js';
import { renderAccounts, tick } from './accounts.js';
import { hmacKey, base32Decode } from './totp.js';
import { $, announce, errorText, loadWords, setError, setStatus, show, t } from './screens.js';
import { setupPush, pushStatus, dropPush } from './push.js';
import { credentialOf, hmacOf, state } from './state.js';
import {
  answer,
  answerLater,
  arrived,
  checkExpiry,
  dropRequestsOf,
  goHome,
  openRequest,
  showNext,
} from './requests.js';

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function main() {
  await loadWords(document.body.dataset.messages);
  wire();
  if (!window.isSecureContext || !window.crypto?.subtle || !window.indexedDB) {
    setStatus(t('error-crypto'));
    $('add-button').disabled = true;
    return;
  }
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker
      .register(document.body.dataset.worker, { scope: '/authenticator/' })
      .catch(() => {});
    navigator.serviceWorker.addEventListener('message', (event) => {
      const data = event.data || {};
      if (data.type === 'open-request') openRequest(data.device_id, data.request_id);
    });
  }
  await load();
  route();
  window.addEventListener('hashchange', route);
  setInterval(everySecond, 1000);
  for (const account of state.accounts) {
    if (!account.removed && account.push !== 'on') refreshPush(account);
  }
  document.body.dataset.ready = 'true';
}

/** Reads the accounts and opens their secrets; starts a long poll for each new one. */
async function load() {
  state.accounts = await store.accounts();
  for (const account of state.accounts) {
    if (!state.secrets.has(account.id)) {
      try {
        const open = await store.unseal(account.sealed);
        const hmac = await hmacKey(base32Decode(open.secret), account.algorithm);
        state.secrets.set(account.id, { credential: open.credential, hmac });
      } catch {
        continue;
      }
    }
    if (!account.removed && !state.polls.has(account.id)) poll(account);
  }
  renderAccounts(state.accounts, askRemove);
  await tick(state.accounts, hmacOf);
  updateStatus();
}

function everySecond() {
  tick(state.accounts, hmacOf);
  checkExpiry();
}

/** `#activate=<code>` (the QR code's link) or `#request=<id>&device=<id>` (a notification). */
function route() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has('activate')) {
    // The code is used once: off the address bar and out of the history.
    history.replaceState(null, '', location.pathname);
    startAdd(hash.get('activate'));
  } else if (hash.has('request')) {
    history.replaceState(null, '', location.pathname);
    openRequest(hash.get('device'), hash.get('request'));
  }
}

function wire() {
  $('add-button').addEventListener('click', () => startAdd(null));
  for (const back of document.querySelectorAll('[data-back]')) {
    back.addEventListener('click', goHome);
  }
  $('add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    add();
  });
  $('answer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    answer('approve');
  });
  $('deny').addEventListener('click', () => answer('deny'));
  $('report').addEventListener('click', () => answer('report'));
  $('remove-confirm').addEventListener('click', remove);
  $('answer-waiting').addEventListener('click', answerLater);
}

function startAdd(code) {
  setStatus(null);
  $('add-form').reset();
  setError('add-error', null);
  $('add-from').hidden = !code;
  $('add-intro').hidden = !!code;
  if (code) {
    $('link').value = code;
    $('add-from').textContent = t('confirm-add', { server: location.host });
  }
  show('add');
}

async function add() {
  const found = parseActivation($('link').value, $('server').value, location.origin);
  if (found.error) {
    setError('add-error', t(`error-${found.error}`));
    $(found.error === 'code' ? 'link' : 'server').focus();
    return;
  }
  // Asked while the click still counts as the person's: browsers want a gesture for it.
  const permission =
    'Notification' in window && Notification.permission === 'default'
      ? Notification.requestPermission().catch(() => 'denied')
      : Promise.resolve(window.Notification?.permission || 'denied');
  $('add-submit').disabled = true;
  try {
    const key = await store.newDeviceKey();
    const ua = self.tesseraBrowserName ? self.tesseraBrowserName(navigator.userAgent) : {};
    const name =
      ua.browser && ua.os ? t('device-name', { browser: ua.browser, os: ua.os }) : t('this-device');
    const done = await api.activate(found.server, found.code, key, name);
    const account = {
      id: crypto.randomUUID(),
      server: found.server,
      device_id: done.device_id,
      issuer: done.issuer,
      username: done.account.username,
      display_name: done.account.display_name,
      digits: done.totp.digits,
      period: done.totp.period,
      algorithm: done.totp.algorithm,
      offset: api.offsetFrom(done.server_time),
      key: key.privateKey,
      sealed: await store.seal({ credential: done.credential, secret: done.totp.secret }),
      removed: false,
      push: null,
      added_at: Date.now(),
    };
    await store.saveAccount(account);
    await load();
    show('accounts');
    setStatus(t('added', { account: account.username }));
    announce(t('added', { account: account.username }));
    showNext();
    refreshPush(account, done.vapid_public_key, permission);
  } catch (e) {
    setError('add-error', errorText(e, found.server));
  } finally {
    $('add-submit').disabled = false;
  }
}

/** Subscribes `account` to Web Push if it can; says so when notifications are off. */
async function refreshPush(account, vapidKey, permission) {
  const fresh = state.accounts.find((a) => a.id === account.id);
  if (!fresh) return;
  fresh.push = await setupPush(fresh, credentialOf(fresh), vapidKey, permission);
  await store.saveAccount(fresh);
  updateStatus();
}

function updateStatus() {
  const key = pushStatus(state.accounts);
  setError('push-status', key ? t(key) : null);
}

/** Holds a request open to the account's server while the app runs. */
async function poll(account) {
  const control = new AbortController();
  state.polls.set(account.id, control);
  let wait = 0;
  while (!control.signal.aborted) {
    try {
      const found = await api.pending(account, credentialOf(account), wait, control.signal);
      account.offset = api.offsetFrom(found.server_time);
      const open = found.requests.filter((r) => r.status === 'pending');
      arrived(account, open);
      wait = 25;
      // While one waits, the server answers at once: ask again a little later.
      if (open.length) await sleep(2000, control.signal);
    } catch (e) {
      if (control.signal.aborted) return;
      if (e.status === 401) {
        await removedOnServer(account);
        return;
      }
      await sleep(5000, control.signal);
    }
  }
}

function askRemove(account) {
  state.removing = account;
  $('remove-which').textContent = `${account.issuer}: ${account.username}`;
  setError('remove-error', null);
  show('remove');
}

async function remove() {
  const account = state.removing;
  if (!account) return;
  $('remove-confirm').disabled = true;
  try {
    if (!account.removed) {
      await dropPush(account, credentialOf(account), state.accounts);
      try {
        await api.remove(account, credentialOf(account));
      } catch (e) {
        // The server had already forgotten it (the method was deleted there).
        if (e.status !== 401) throw e;
      }
    }
    state.polls.get(account.id)?.abort();
    state.polls.delete(account.id);
    state.secrets.delete(account.id);
    dropRequestsOf(account);
    await store.deleteAccount(account.id);
    state.removing = null;
    await load();
    show('accounts');
    setStatus(t('removed', { account: account.username }));
    announce(t('removed', { account: account.username }));
  } catch (e) {
    setError('remove-error', errorText(e, account.server));
  } finally {
    $('remove-confirm').disabled = false;
  }
}

/** The server no longer knows the device: the account stays, marked, until removed here. */
async function removedOnServer(account) {
  state.polls.get(account.id)?.abort();
  state.polls.delete(account.id);
  account.removed = true;
  account.push = null;
  await store.saveAccount(account);
  dropRequestsOf(account);
  renderAccounts(state.accounts, askRemove);
  await tick(state.accounts, hmacOf);
  announce(`${account.username}: ${t('removed-on-server')}`);
  updateStatus();
}

main();
