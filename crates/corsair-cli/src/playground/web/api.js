// The page server's JSON API. Every call resolves to { ok, status, data }
// and never throws: network failures become { ok: false, data: { error } }.

async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    const res = await fetch(path, init);
    let data;
    try {
      data = await res.json();
    } catch (_) {
      data = { error: `the playground answered ${res.status} without JSON` };
    }
    return { ok: res.ok, status: res.status, data };
  } catch (e) {
    return { ok: false, status: 0, data: { error: `the playground server is not reachable (${e.message}): is corsair playground still running?` } };
  }
}

export const info = () => call('GET', '/api/info');
export const getPolicy = () => call('GET', '/api/policy');
export const validatePolicy = (toml) => call('POST', '/api/policy/validate', { toml });
export const setPolicy = (toml) => call('PUT', '/api/policy', { toml });
export const predict = (request) => call('POST', '/api/predict', request);
export const explain = (text, origin) => call('POST', '/api/explain', { text, origin });
export const received = (run) => call('GET', `/api/received?run=${encodeURIComponent(run)}`);

// Calls onReceived(entry) for each request the demo API receives.
export function events(onReceived, onState) {
  const source = new EventSource('/api/events');
  source.addEventListener('received', (e) => {
    try { onReceived(JSON.parse(e.data)); } catch (_) { /* ignore a bad event */ }
  });
  source.addEventListener('hello', () => onState(true));
  source.onerror = () => onState(false);
  return source;
}
