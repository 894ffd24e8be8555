// Reading what a person pastes or types to add an account: the QR code's link
// (https://<server>/authenticator/#activate=<code>), the older
// tessera-activate://v1?url=…&code=…, or a code with the server's address typed apart.

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** The code as XXXX-XXXX-XXXX, however it was typed; null when it cannot be one. */
export function normalizeCode(raw) {
  const code = String(raw || '').replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== 12 || [...code].some((c) => !ALPHABET.includes(c))) return null;
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/** A server's address as typed: https, or http on loopback (development); no trailing /. */
export function normalizeServer(raw) {
  let text = String(raw || '').trim();
  if (!text) return null;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `https://${text}`;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return null;
  const path = url.pathname.replace(/\/authenticator\/?$/, '').replace(/\/+$/, '');
  return `${url.origin}${path}`;
}

/**
 * The server and code in what was entered: `{server, code}`, or `{error: 'code'|'server'}`.
 * `here` is this app's own server, for a code typed without one.
 */
export function parseActivation(linkText, serverText, here) {
  const text = String(linkText || '').trim();
  const web = text.match(/^(https?:\/\/.+?)\/authenticator\/#activate=([^&]+)/i);
  if (web) return checked(web[1], decodeURIComponent(web[2]));
  if (text.toLowerCase().startsWith('tessera-activate://v1?')) {
    const query = new URLSearchParams(text.slice('tessera-activate://v1?'.length));
    return checked(query.get('url'), query.get('code'));
  }
  return checked(serverText && serverText.trim() ? serverText : here, text);
}

function checked(serverText, codeText) {
  const code = normalizeCode(codeText);
  if (!code) return { error: 'code' };
  const server = normalizeServer(serverText);
  if (!server) return { error: 'server' };
  return { server, code };
}
