// What the running app holds in memory: the accounts as stored, their opened secrets, the
// long polls, and the requests waiting to be answered.

export const state = {
  accounts: [],
  /** account id → {credential, hmac} */
  secrets: new Map(),
  /** account id → AbortController of its long poll */
  polls: new Map(),
  /** requests waiting to be shown: {account, request} */
  queue: [],
  /** the request on screen, until answered */
  open: null,
  /** requests set aside with "Back to your accounts", until answered or reopened */
  later: [],
  /** an answer to the request on screen is on its way */
  answering: false,
  /** the account on the remove screen */
  removing: null,
};


export const hmacOf = (account) => state.secrets.get(account.id)?.hmac || null;
export const credentialOf = (account) => state.secrets.get(account.id)?.credential;

