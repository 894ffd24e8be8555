// Sign-in requests on the phone: the newest first, one on screen at a time, answered by
// typing the number the sign-in screen shows (or denied, or denied and reported). A request
// set aside with "Back to your accounts" waits on the accounts screen and in its
// notification.

import * as api from './protocol.js';
import { $, announce, current, deviceName, errorText, setError, setStatus, show, t } from './screens.js';
import { credentialOf, state } from './state.js';

export function goHome() {
  // Set aside, not refused: the accounts screen offers it again, as does its notification.
  if (state.open) state.later.push(state.open);
  state.open = null;
  show('accounts');
  showLater();
  showNext();
}

/** "Answer the waiting sign-in request", while one is set aside. */
export function showLater() {
  $('waiting').hidden = state.later.length === 0;
}

export function answerLater() {
  const next = state.later.shift();
  if (!next) return;
  state.queue.unshift(next);
  showLater();
  showNext();
}

export function arrived(account, requests) {
  const ids = new Set(requests.map((r) => r.id));
  // Requests of this account that ended elsewhere leave the queue.
  const still = (q) => q.account.id !== account.id || ids.has(q.request.id);
  state.queue = state.queue.filter(still);
  state.later = state.later.filter(still);
  showLater();
  // The request on screen ended elsewhere (answered with a code, replaced, lapsed).
  if (state.open && state.open.account.id === account.id && !ids.has(state.open.request.id)) {
    finish(t('error-expired'));
  }
  let fresh = false;
  for (const request of requests) {
    const known =
      (state.open && state.open.request.id === request.id) ||
      state.queue.some((q) => q.request.id === request.id) ||
      state.later.some((q) => q.request.id === request.id) ||
      answered.has(request.id);
    if (!known) {
      state.queue.push({ account, request, seq: ++arrivals });
      fresh = true;
      announce(t('request-arrived', { account: account.username }));
    }
  }
  // The newest first: it is the one the person is looking at on the other screen. One on
  // screen, not being answered, gives way to a newer one.
  if (fresh && state.open && !state.answering) {
    state.queue.push(state.open);
    state.open = null;
  }
  state.queue.sort(newestFirst);
  if (!state.open) showNext();
}

let arrivals = 0;

function newestFirst(a, b) {
  const age = Date.parse(b.request.created_at) - Date.parse(a.request.created_at);
  return age || (b.seq || 0) - (a.seq || 0);
}

/** Requests answered here, which a poll may still list for a moment. */
const answered = new Set();

export function showNext() {
  if (state.open || current() === 'add' || current() === 'remove') return;
  const next = state.queue.shift();
  if (!next) return;
  state.open = next;
  const { account, request } = next;
  $('request-screen').dataset.request = request.id;
  $('request-from').textContent = t('from', { app: request.app, browser: deviceName(request.user_agent) });
  const facts = $('request-facts');
  facts.replaceChildren();
  const fact = (term, value) => {
    if (!value) return;
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    facts.append(dt, dd);
  };
  fact(t('account'), `${request.account.username} (${account.issuer})`);
  fact(t('purpose'), t(`purpose-${request.purpose}`));
  fact(t('address'), request.ip);
  $('answer-form').hidden = false;
  $('answer-form').reset();
  setError('answer-error', null);
  $('request-done').hidden = true;
  for (const b of $('answer-form').querySelectorAll('button')) b.disabled = false;
  show('request');
}

/** Shows the request `id` of the device `deviceId` (from a notification). */
export async function openRequest(deviceId, id) {
  const account = state.accounts.find((a) => a.device_id === deviceId && !a.removed);
  if (!account || !id) return;
  if (state.open && state.open.request.id === id) {
    show('request');
    return;
  }
  try {
    const found = await api.request(account, credentialOf(account), id);
    account.offset = api.offsetFrom(found.server_time);
    if (found.request.status !== 'pending') {
      setStatus(t('error-expired'));
      return;
    }
    state.queue = state.queue.filter((q) => q.request.id !== id);
    state.later = state.later.filter((q) => q.request.id !== id);
    showLater();
    if (state.open) state.queue.unshift(state.open);
    state.open = null;
    state.queue.unshift({ account, request: found.request });
    if (current() !== 'accounts') show('accounts', { focus: false });
    showNext();
  } catch (e) {
    setStatus(errorText(e, account.server));
  }
}

export async function answer(decision) {
  if (!state.open) return;
  const { account, request } = state.open;
  let number = null;
  if (decision === 'approve') {
    const typed = $('number').value.trim();
    if (!/^\d{1,2}$/.test(typed)) {
      setError('answer-error', t('number-required'));
      $('number').focus();
      return;
    }
    number = Number(typed);
  }
  const buttons = $('answer-form').querySelectorAll('button');
  for (const b of buttons) b.disabled = true;
  state.answering = true;
  try {
    const done = await api.answer(account, credentialOf(account), request.id, decision, number);
    answered.add(request.id);
    finish(t(done.status));
  } catch (e) {
    if (e.status === 0) {
      // Not answered: the same request may be answered again.
      for (const b of buttons) b.disabled = false;
      setError('answer-error', errorText(e, account.server));
      return;
    }
    answered.add(request.id);
    finish(errorText(e, account.server));
    // A device the server has forgotten shows as removed at its next poll.
  } finally {
    state.answering = false;
  }
}

/** The request on screen has ended: says how, and moves on to the next. */
export function finish(text) {
  state.open = null;
  setStatus(null);
  $('answer-form').hidden = true;
  const done = $('request-done');
  done.textContent = text;
  done.hidden = false;
  announce(text);
  $('screen-title').focus();
  if (state.queue.length) setTimeout(showNext, 1500);
}

/** A request on screen that has lapsed on the server's clock ends there. */
export function checkExpiry() {
  if (!state.open) return;
  const { account, request } = state.open;
  if (Date.parse(request.expires_at) / 1000 < api.serverNow(account.offset)) {
    finish(t('error-expired'));
  }
}

/** Forgets the requests of an account that is removed. */
export function dropRequestsOf(account) {
  state.queue = state.queue.filter((q) => q.account.id !== account.id);
  state.later = state.later.filter((q) => q.account.id !== account.id);
  showLater();
}
