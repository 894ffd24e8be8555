// The accounts screen: each account with its current code and the seconds it has left, on
// the server's clock as last seen (so also offline). The countdown is not read out every
// second: a polite announcement says when an account has a new code.

import { codeAt } from './totp.js';
import { $, announce, t } from './screens.js';
import { serverNow } from './protocol.js';

/** Renders the list; `onRemove(account)` for each Remove button. */
export function renderAccounts(accounts, onRemove) {
  const list = $('accounts');
  list.replaceChildren();
  shown.clear();
  $('accounts-empty').hidden = accounts.length > 0;
  for (const account of accounts) {
    const item = document.createElement('li');
    item.className = 'webapp-account';
    item.dataset.account = account.id;
    item.dataset.device = account.device_id;
    item.append(
      paragraph('webapp-issuer', account.issuer),
      paragraph('webapp-user', account.username),
    );
    if (account.removed) {
      item.append(paragraph('alert alert-warning webapp-removed', t('removed-on-server')));
    } else {
      const line = document.createElement('p');
      line.className = 'webapp-code-line';
      const code = document.createElement('span');
      code.className = 'webapp-code';
      code.setAttribute('role', 'text');
      const left = document.createElement('span');
      left.className = 'webapp-left';
      left.setAttribute('aria-hidden', 'true');
      line.append(code, left);
      item.append(line);
    }
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'button-secondary webapp-remove';
    remove.textContent = t('remove');
    remove.setAttribute('aria-label', t('remove-account', { account: account.username }));
    remove.addEventListener('click', () => onRemove(account));
    item.append(remove);
    list.append(item);
  }
}

function paragraph(className, text) {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  return p;
}

/** The time step each account's code on screen belongs to. */
const shown = new Map();

/** Brings every code on screen up to date; `hmac(account)` is its key, or null. */
export async function tick(accounts, hmac) {
  for (const account of accounts) {
    if (account.removed) continue;
    const item = document.querySelector(`[data-account="${CSS.escape(account.id)}"]`);
    const key = hmac(account);
    if (!item || !key) continue;
    const now = serverNow(account.offset);
    const period = account.period || 30;
    const step = Math.floor(now / period);
    const codeEl = item.querySelector('.webapp-code');
    if (shown.get(account.id) !== step) {
      const renewed = shown.has(account.id);
      shown.set(account.id, step);
      const code = await codeAt(key, account.digits || 6, step);
      codeEl.dataset.code = code;
      // Two groups read more easily: "123 456".
      const half = Math.ceil(code.length / 2);
      codeEl.textContent = `${code.slice(0, half)} ${code.slice(half)}`;
      codeEl.setAttribute(
        'aria-label',
        `${t('code-for', { account: account.username })}: ${[...code].join(' ')}`,
      );
      const visible = !$('accounts-screen').hidden && document.visibilityState === 'visible';
      if (renewed && visible) announce(t('new-code', { account: account.username }));
    }
    const left = period - (now % period);
    item.querySelector('.webapp-left').textContent = t('seconds-left', { seconds: left });
  }
}
