// Rendering: DOM nodes built with el(), never from HTML strings, since
// URLs, headers and messages come from the user and from servers.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const CORS_HEADER = /^(access-control-|origin$|vary$|location$)/;

function headerList(pairs, highlightAll) {
  if (!pairs || pairs.length === 0) return el('p', { class: 'hint' }, '(no headers)');
  return el('ul', { class: 'headers' }, pairs.map(([n, v]) =>
    el('li', { class: highlightAll || CORS_HEADER.test(n) ? 'cors' : '' }, el('code', {}, `${n}: ${v}`))));
}

function decisionLine(d) {
  if (!d) return null;
  return el('p', { class: `decision ${d.allowed ? 'ok' : 'bad'}` },
    el('strong', {}, `policy: ${d.kind}, ${d.allowed ? 'allowed' : 'refused'}`), ` — ${d.reason}`);
}

function predictedStep(x) {
  const res = x.response;
  return el('div', { class: 'cell predicted' },
    el('p', { class: 'note' }, x.note),
    el('p', {}, el('strong', {}, `→ ${x.request.method} `), el('code', { class: 'url' }, x.request.url)),
    headerList(x.request.headers),
    res ? [el('p', {}, el('strong', {}, `← ${res.status}`)), headerList(res.headers)] : el('p', { class: 'hint' }, '(no response)'),
    decisionLine(x.decision));
}

function observedStep(r) {
  if (!r) {
    return el('div', { class: 'cell observed missing' },
      el('p', {}, el('strong', {}, 'not received'), ' — the demo API never saw this request.'));
  }
  return el('div', { class: 'cell observed' },
    el('p', { class: 'note' }, r.preflight ? 'preflight received' : 'request received'),
    el('p', {}, el('strong', {}, `→ ${r.method} `), el('code', { class: 'url' }, r.path)),
    headerList(r.request_headers),
    el('p', {}, el('strong', {}, `← ${r.status}`)),
    headerList(r.response_headers),
    decisionLine(r.decision));
}

function stepTitle(x, i, all) {
  if (x.kind === 'preflight') return 'Preflight';
  const earlier = all.slice(0, i).filter((e) => e.kind === 'actual').length;
  return earlier === 0 ? 'Actual request' : `Redirected request ${earlier}`;
}

function predictedResult(p, profileName) {
  if (!p) return el('div', { class: 'cell predicted' }, el('p', {}, 'No prediction.'));
  if (p.thrown) {
    return el('div', { class: 'cell predicted' },
      el('p', { class: 'big bad' }, 'BLOCKED before sending'), el('p', {}, p.thrown));
  }
  if (p.network_error) {
    return el('div', { class: 'cell predicted' },
      el('p', { class: 'big' }, 'NO RESPONSE'), el('p', {}, p.network_error));
  }
  if (p.allowed) {
    return el('div', { class: 'cell predicted' },
      el('p', { class: 'big ok' }, `ALLOWED — status ${p.status}`),
      el('p', {}, 'Readable headers: ', el('code', {}, (p.exposed_headers || []).join(', ') || 'none')),
      p.dropped_headers && p.dropped_headers.length
        ? el('p', { class: 'hint' }, `Dropped by fetch() (forbidden headers): ${p.dropped_headers.join(', ')}`) : null);
  }
  const e = p.error;
  return el('div', { class: 'cell predicted' },
    el('p', { class: 'big bad' }, `BLOCKED — ${e.code}`),
    el('p', {}, el('strong', {}, `${profileName} console message (predicted):`)),
    el('pre', { class: 'console' }, e.console_message),
    el('p', {}, el('strong', {}, 'Why: '), e.explanation),
    el('p', {}, el('strong', {}, 'Fix: '), e.fix.summary),
    el('p', {}, 'With corsair as the server\'s CORS layer:'),
    el('pre', { class: 'toml' }, e.fix.toml));
}

function observedResult(o) {
  if (o.ok) {
    return el('div', { class: 'cell observed' },
      el('p', { class: 'big ok' }, `ALLOWED — fetch() resolved, status ${o.status}`),
      el('p', {}, 'Readable headers: ', el('code', {}, o.headers.join(', ') || 'none')),
      o.redirected ? el('p', {}, 'Redirected to ', el('code', {}, o.url)) : null,
      o.bodyPreview ? el('pre', { class: 'body' }, o.bodyPreview) : null);
  }
  return el('div', { class: 'cell observed' },
    el('p', { class: 'big bad' }, 'BLOCKED — fetch() rejected'),
    el('pre', { class: 'console' }, o.error),
    el('p', {}, 'Scripts only see this TypeError; the browser writes the real reason to its console ',
      '(open the developer tools, F12, Console tab). Compare it with the predicted message.'));
}

// The whole result: verdict banner, checks, timeline, results.
export function result(run) {
  const { prediction: p, observation: o, received, comparison, profileName, applyFix } = run;
  const agree = comparison.agree;
  const banner = agree === null
    ? el('p', { class: 'banner neutral' }, 'No prediction to compare with: see the error below.')
    : agree
      ? el('p', { class: 'banner agree' }, `✓ Prediction and browser agree: ${o.ok ? 'ALLOWED' : 'BLOCKED'}`)
      : el('p', { class: 'banner disagree', role: 'alert' }, '✗ MISMATCH: corsair\'s prediction and this browser disagree');
  const checks = el('table', { class: 'checks' },
    el('caption', {}, 'What was compared'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Check'), el('th', { scope: 'col' }, 'Predicted'),
      el('th', { scope: 'col' }, 'Observed'), el('th', { scope: 'col' }, 'Same?'))),
    el('tbody', {}, comparison.checks.map((c) => el('tr', { class: c.agree ? 'ok' : 'bad' },
      el('th', { scope: 'row' }, c.what), el('td', {}, c.predicted), el('td', {}, c.observed),
      el('td', {}, c.agree ? '✓ yes' : '✗ NO')))));

  const steps = [];
  const exchanges = (p && p.exchanges) || [];
  const demoLog = received ? [...received] : null;
  exchanges.forEach((x, i) => {
    const observed = demoLog && x.decision ? demoLog.shift() : undefined;
    steps.push(el('div', { class: 'step' },
      el('h4', {}, `${i + 1}. ${stepTitle(x, i, exchanges)}`),
      el('div', { class: 'pair' }, predictedStep(x),
        demoLog ? observedStep(observed)
          : el('div', { class: 'cell observed missing' },
            el('p', {}, 'The playground cannot see requests to other servers: open the developer tools\' Network tab.')))));
  });
  if (demoLog) {
    for (const extra of demoLog) {
      steps.push(el('div', { class: 'step' }, el('h4', {}, 'Not predicted'),
        el('div', { class: 'pair' }, el('div', { class: 'cell predicted missing' }, el('p', {}, 'corsair did not expect this request.')),
          observedStep(extra))));
    }
  }
  const fix = p && p.error && p.target === 'demo' && applyFix
    ? el('button', { type: 'button', class: 'apply-fix', onclick: () => applyFix(p.error.fix.toml) }, 'Use the fix as the demo API policy')
    : null;
  return el('div', {
    id: 'verdict',
    'data-state': 'done',
    'data-agree': agree === null ? 'none' : String(agree),
    'data-predicted': p ? (p.thrown || !p.allowed ? 'blocked' : 'allowed') : 'none',
    'data-observed': o.ok ? 'allowed' : 'blocked',
  },
  banner, checks,
  el('h3', {}, 'Timeline'),
  el('div', { class: 'pair heads', 'aria-hidden': 'true' }, el('p', {}, `Predicted by corsair (${profileName})`), el('p', {}, 'Observed')),
  steps.length ? steps : el('p', { class: 'hint' }, 'No request was sent.'),
  el('h3', {}, 'Result'),
  el('div', { class: 'pair' }, predictedResult(p, profileName), observedResult(o)),
  fix);
}

export function problems(list) {
  return list.map((p) => el('li', { class: p.severity },
    el('strong', {}, p.severity), ' ', el('code', {}, p.field),
    p.value !== null && p.value !== undefined ? [' ', el('code', { class: 'value' }, JSON.stringify(p.value))] : null,
    ': ', p.message));
}

export function logEntry(r) {
  return el('li', { class: r.decision.allowed ? 'ok' : 'bad' },
    el('span', { class: 'badge' }, r.preflight ? 'preflight' : r.decision.kind),
    ' ', el('strong', {}, `${r.method} `), el('code', {}, r.path), ' ',
    el('span', {}, `from ${r.origin || '(no Origin)'} → ${r.status}, `),
    el('span', { class: 'code' }, r.decision.code));
}
