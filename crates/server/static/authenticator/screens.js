// The app's screens (one shown at a time, its title in the page's one <h1>), its words
// (messages.json, from the server's catalog) and what it says to screen readers.

const words = {};

export async function loadWords(url) {
  try {
    const response = await fetch(url);
    if (response.ok) Object.assign(words, await response.json());
  } catch {
    // Offline without a cached copy: the keys show instead of words, and the app still works.
  }
}

/** The message `key`, its `{ $name }` places filled from `args`. */
export function t(key, args = {}) {
  const pattern = words[key] ?? key;
  return pattern.replace(/\{\s*\$(\w+)\s*\}/g, (_, name) => String(args[name] ?? ''));
}

export const $ = (id) => document.getElementById(id);

/** Shows screen `name` (accounts, add, request, remove); the focus goes to its title. */
export function show(name, { focus = true } = {}) {
  let shown = null;
  for (const section of document.querySelectorAll('main > section')) {
    section.hidden = section.id !== `${name}-screen`;
    if (!section.hidden) shown = section;
  }
  const title = $('screen-title');
  title.textContent = shown.dataset.title;
  document.title = shown.dataset.title;
  if (focus) title.focus();
}

export function current() {
  const shown = document.querySelector('main > section:not([hidden])');
  return shown ? shown.id.replace(/-screen$/, '') : null;
}

/** Says `text` politely: after what the reader is saying, not over it. */
export function announce(text) {
  const region = $('announcer');
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 100);
}

/** The line above the screens (notifications off, an account added); null hides it. */
export function setStatus(text) {
  const status = $('status');
  status.hidden = !text;
  status.textContent = text || '';
}

export function setError(id, text) {
  const el = $(id);
  el.hidden = !text;
  el.textContent = text || '';
}

/** "Chrome on Windows" for a User-Agent. */
export function deviceName(ua) {
  const found = self.tesseraBrowserName ? self.tesseraBrowserName(ua) : {};
  if (!found.browser) return t('unknown-browser');
  return found.os ? t('device-name', { browser: found.browser, os: found.os }) : found.browser;
}

/** What to tell the person about a failed call to `server`. */
export function errorText(e, server) {
  if (e && e.status === 0) return t('error-network', { server });
  const known = ['invalid_code', 'expired', 'locked', 'unauthorized'];
  if (e && known.includes(e.code)) return t(`error-${e.code}`);
  return (e && e.message) || String(e);
}
