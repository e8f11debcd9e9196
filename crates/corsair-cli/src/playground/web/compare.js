// Prediction versus reality. Pure functions: no DOM.
//
// prediction: the /api/predict answer ({ allowed, preflight_sent,
//   exposed_headers, exchanges, target, ... }), or { thrown } when fetch()
//   would throw before sending, or null when there is none.
// observation: { ok, status, headers: [names], error } from the real fetch().
// received: the demo API's log for the run (null for other servers).

const sorted = (list) => [...new Set(list.map((s) => s.toLowerCase()))].sort();

// Returns { checks: [{ what, predicted, observed, agree }], agree }.
export function compare(prediction, observation, received) {
  const checks = [];
  if (!prediction) return { checks, agree: null };
  const predictedAllowed = prediction.thrown ? false : !!prediction.allowed;
  checks.push({
    what: 'the script can read the response',
    predicted: predictedAllowed ? 'allowed' : 'blocked',
    observed: observation.ok ? 'allowed' : 'blocked',
    agree: predictedAllowed === observation.ok,
  });
  if (received && !prediction.thrown) {
    const sawPreflight = received.some((r) => r.preflight);
    checks.push({
      what: 'preflight sent',
      predicted: prediction.preflight_sent ? 'yes' : 'no',
      observed: sawPreflight ? 'yes' : 'no',
      agree: !!prediction.preflight_sent === sawPreflight,
    });
    const predictedSeq = (prediction.exchanges || [])
      .filter((x) => x.decision)
      .map((x) => x.request.method);
    const observedSeq = received.map((r) => r.method);
    checks.push({
      what: 'requests that reached the demo API',
      predicted: predictedSeq.join(' → ') || 'none',
      observed: observedSeq.join(' → ') || 'none',
      agree: predictedSeq.join(' ') === observedSeq.join(' '),
    });
  }
  if (predictedAllowed && observation.ok) {
    const p = sorted(prediction.exposed_headers || []);
    const o = sorted(observation.headers || []);
    checks.push({
      what: 'readable response headers',
      predicted: p.join(', ') || 'none',
      observed: o.join(', ') || 'none',
      agree: p.join(',') === o.join(','),
    });
  }
  return { checks, agree: checks.every((c) => c.agree) };
}

// Adds `_run=<id>` to the URL so that no cache answers for the server.
// Returns the URL unchanged when it does not parse (fetch() will throw).
export function withRun(url, run) {
  try {
    const u = new URL(url);
    u.searchParams.set('_run', run);
    return u.toString();
  } catch (_) {
    return url;
  }
}

// "Name: value" lines → [[name, value]]; returns { pairs, problem }.
export function parseHeaders(text) {
  const pairs = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      return { pairs, problem: `header line ${i + 1} "${line}" has no "Name: value" form` };
    }
    pairs.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { pairs, problem: null };
}

const BODY_TYPES = {
  text: 'text/plain',
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
};

// The headers and body fetch() gets: the body type sets Content-Type
// unless the user set one.
export function effectiveRequest(form) {
  const { pairs, problem } = parseHeaders(form.headers);
  if (problem) return { problem };
  const method = form.method.trim();
  const hasBody = form.bodyType !== 'none';
  if (hasBody && /^(GET|HEAD)$/i.test(method)) {
    return { problem: `a ${method.toUpperCase()} request cannot have a body (fetch() would throw): choose body "none" or another method` };
  }
  let body;
  if (hasBody) {
    body = form.body;
    if (form.bodyType === 'json') {
      try { JSON.parse(body); } catch (e) { return { problem: `the JSON body does not parse: ${e.message}` }; }
    }
    if (!pairs.some(([n]) => n.toLowerCase() === 'content-type')) {
      pairs.push(['Content-Type', BODY_TYPES[form.bodyType]]);
    }
  }
  return { method, headers: pairs, body, problem: null };
}
