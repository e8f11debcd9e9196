// The page's state in the URL hash: #s=<base64url(JSON)>. The demo API's
// address is stored as "{api}" so a link works whatever the ports.

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function toBase64Url(text) {
  let bin = '';
  for (const b of utf8.encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(s) {
  const b64 = s.replaceAll('-', '+').replaceAll('_', '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return fromUtf8.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export function encodeState(state, api) {
  const copy = { ...state, request: { ...state.request } };
  if (copy.request.url.startsWith(api)) copy.request.url = '{api}' + copy.request.url.slice(api.length);
  return 's=' + toBase64Url(JSON.stringify(copy));
}

// Returns the state, or null when the hash has none; throws a readable
// Error when it is damaged.
export function decodeState(hash, api) {
  const m = /^#?s=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!m) return null;
  let state;
  try {
    state = JSON.parse(fromBase64Url(m[1]));
  } catch (_) {
    throw new Error('the link\'s #s=… part is damaged: it was probably cut when copied');
  }
  if (!state || typeof state !== 'object' || !state.request || typeof state.request.url !== 'string') {
    throw new Error('the link\'s #s=… part is not a playground state');
  }
  state.request.url = state.request.url.replace('{api}', api);
  return state;
}
