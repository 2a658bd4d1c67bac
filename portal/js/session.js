// The signed-in pro: Cognito's tokens kept in sessionStorage (gone with the tab; never in localStorage), the ID token
// refreshed a minute before it expires.
const KEY = "passculture-pro-session";
let cognito = null;

export function useCognito(client) { cognito = client; }

function read() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch { return null; }
}

function write(tokens) {
  const current = read() || {};
  const expiresAt = Date.now() + (tokens.expiresIn || 3600) * 1000;
  sessionStorage.setItem(KEY, JSON.stringify({ ...current, ...tokens, expiresAt }));
}

function claims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(payload))));
  } catch { return {}; }
}

export const session = {
  signedIn: () => Boolean(read()?.idToken),
  save: write,
  clear: () => sessionStorage.removeItem(KEY),
  /** The user's email and groups, read from the ID token (shown, never trusted: the API checks the token). */
  user() {
    const token = read()?.idToken;
    if (!token) return null;
    const found = claims(token);
    return { email: found.email || found["cognito:username"], groups: found["cognito:groups"] || [] };
  },
  async idToken() {
    const current = read();
    if (!current?.idToken) return null;
    if (Date.now() < current.expiresAt - 60_000 || !current.refreshToken || !cognito) return current.idToken;
    try {
      write(await cognito.refresh(current.refreshToken));
      return read().idToken;
    } catch {
      sessionStorage.removeItem(KEY);
      return null;
    }
  },
  async signOut() {
    const current = read();
    sessionStorage.removeItem(KEY);
    if (current?.accessToken && cognito) {
      try { await cognito.signOut(current.accessToken); } catch { /* the tokens are forgotten here anyway */ }
    }
  },
};
