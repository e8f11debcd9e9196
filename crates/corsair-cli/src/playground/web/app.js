// Wiring: the request form, the policy editor, runs, sharing, the live log.
import * as api from './api.js';
import { EXAMPLES, PRESETS } from './catalog.js';
import { compare, effectiveRequest, withRun } from './compare.js';
import { el, logEntry, problems as renderProblems, result as renderResult } from './render.js';
import { decodeState, encodeState } from './share.js';

const $ = (id) => document.getElementById(id);
const ctx = { api: '', pageOrigin: location.origin, pagePort: location.port || '80' };
let runCounter = 0;
let policyTimer = null;
let policySeq = 0;

function defaultProfile() {
  const ua = navigator.userAgent;
  if (/Firefox\//.test(ua)) return 'firefox';
  if (/Safari\//.test(ua) && !/Chrom(e|ium)\//.test(ua)) return 'webkit';
  return 'chromium';
}

function readForm() {
  return {
    url: $('url').value.trim(),
    method: $('method').value,
    headers: $('headers').value,
    bodyType: $('body-type').value,
    body: $('body').value,
    credentials: $('credentials').value,
    profile: $('profile').value,
  };
}

function fillForm(r) {
  $('url').value = r.url;
  $('method').value = r.method;
  $('headers').value = r.headers || '';
  $('body-type').value = r.bodyType || 'none';
  $('body').value = r.body || '';
  $('credentials').value = r.credentials || 'same-origin';
  if (r.profile) $('profile').value = r.profile;
  syncBody();
}

function syncBody() {
  const none = $('body-type').value === 'none';
  $('body').disabled = none;
  $('body-label').classList.toggle('disabled', none);
}

// ---- policy editor ----

async function applyPolicy(toml) {
  const seq = ++policySeq;
  $('policy-status').textContent = 'Checking…';
  const res = await api.setPolicy(toml);
  if (seq !== policySeq) return res; // a newer edit is on its way
  const list = res.data.problems || [];
  $('problems').replaceChildren(...renderProblems(list));
  const errors = list.filter((p) => p.severity === 'error').length;
  if (res.ok) {
    $('policy-status').textContent = list.length ? `Applied, with ${list.length} warning(s).` : 'Applied: the demo API uses this policy.';
    $('policy-status').className = 'status ok';
  } else if (res.data.problems) {
    $('policy-status').textContent = `Not applied: ${errors} error(s). The demo API keeps the last valid policy.`;
    $('policy-status').className = 'status bad';
  } else {
    $('policy-status').textContent = `Not applied: ${res.data.error}`;
    $('policy-status').className = 'status bad';
  }
  document.body.dataset.policy = res.ok ? 'applied' : 'rejected';
  return res;
}

function onPolicyInput() {
  clearTimeout(policyTimer);
  $('preset-note').hidden = true;
  document.body.dataset.policy = 'pending';
  policyTimer = setTimeout(() => applyPolicy($('policy').value), 400);
}

async function usePreset(preset) {
  clearTimeout(policyTimer);
  $('policy').value = preset.toml(ctx);
  const note = $('preset-note');
  if (preset.note) {
    const sub = `${location.protocol}//app.localhost:${ctx.pagePort}/`;
    note.textContent = preset.note.replace('{pageOrigin}', location.origin).replace('{subdomainUrl}', sub);
    note.hidden = false;
  } else {
    note.hidden = true;
  }
  return applyPolicy($('policy').value);
}

// ---- runs ----

async function realFetch(url, req, credentials) {
  const init = { method: req.method, credentials, mode: 'cors' };
  try {
    init.headers = new Headers(req.headers);
    if (req.body !== undefined) init.body = req.body;
    const res = await fetch(url, init);
    const headers = [...res.headers.keys()];
    let bodyPreview = '';
    try { bodyPreview = (await res.text()).slice(0, 400); } catch (_) { /* body unreadable */ }
    return { ok: true, status: res.status, headers, redirected: res.redirected, url: res.url, bodyPreview };
  } catch (e) {
    return { ok: false, error: `${e.name}: ${e.message}` };
  }
}

async function run() {
  const form = readForm();
  const req = effectiveRequest(form);
  $('request-problem').textContent = req.problem || '';
  if (req.problem) return;
  // Wait for a pending policy edit, so the run uses what is on screen.
  if (document.body.dataset.policy === 'pending') {
    clearTimeout(policyTimer);
    await applyPolicy($('policy').value);
  }
  const runId = `${Date.now().toString(36)}-${++runCounter}`;
  const url = withRun(form.url, runId);
  $('run').disabled = true;
  $('result').replaceChildren(el('p', { id: 'verdict', 'data-state': 'running' }, 'Running…'));
  const predicted = await api.predict({
    origin: location.origin, url, method: req.method, headers: req.headers,
    credentials: form.credentials, profile: form.profile,
  });
  let prediction;
  if (predicted.ok) prediction = predicted.data;
  else if (predicted.data.thrown) prediction = { thrown: predicted.data.error };
  else if (predicted.data.network_error) prediction = { network_error: predicted.data.error };
  else prediction = null;
  const observation = await realFetch(url, req, form.credentials);
  const isDemo = prediction && prediction.target === 'demo';
  let received = null;
  if (isDemo || (prediction && prediction.thrown && url.startsWith(ctx.api))) {
    const r = await api.received(runId);
    received = r.ok ? r.data : [];
  }
  const comparable = prediction && !prediction.network_error ? prediction : null;
  const comparison = compare(comparable, observation, received);
  const profileName = $('profile').selectedOptions[0].textContent;
  const node = renderResult({
    prediction, observation, received, comparison, profileName,
    applyFix: (toml) => { $('policy').value = toml; applyPolicy(toml); $('policy').focus(); },
  });
  if (!prediction) node.prepend(el('p', { class: 'problem-line' }, predicted.data.error));
  $('result').replaceChildren(node);
  $('run').disabled = false;
}

// ---- sharing ----

function currentState() {
  return { request: readForm(), policy: $('policy').value };
}

async function share() {
  const hash = encodeState(currentState(), ctx.api);
  history.replaceState(null, '', `#${hash}`);
  try {
    await navigator.clipboard.writeText(location.href);
    $('share-status').textContent = 'Link copied (it holds the request and the policy).';
  } catch (_) {
    $('share-status').textContent = 'The address bar now holds a link to this request and policy.';
  }
}

// ---- start ----

async function start() {
  const i = await api.info();
  if (!i.ok) {
    $('result').replaceChildren(el('p', { class: 'problem-line' }, i.data.error));
    return;
  }
  ctx.api = `${location.protocol}//${location.hostname}:${i.data.api_port}`;
  $('page-origin').textContent = location.origin;
  $('api-origin').textContent = ctx.api;
  $('profile').value = defaultProfile();

  for (const ex of EXAMPLES) {
    $('examples').append(el('button', {
      type: 'button', 'data-example': ex.id,
      onclick: () => { fillForm({ ...ex.request(ctx), profile: $('profile').value }); $('run').focus(); },
    }, ex.label));
  }
  for (const p of PRESETS) {
    $('presets').append(el('button', { type: 'button', 'data-preset': p.id, onclick: () => usePreset(p) }, p.label));
  }
  $('policy').addEventListener('input', onPolicyInput);
  $('body-type').addEventListener('change', syncBody);
  $('request-form').addEventListener('submit', (e) => { e.preventDefault(); run(); });
  $('share').addEventListener('click', share);
  $('explain-form').addEventListener('submit', (e) => { e.preventDefault(); explainError(); });

  let state = null;
  try {
    state = decodeState(location.hash, ctx.api);
  } catch (e) {
    $('request-problem').textContent = e.message;
  }
  if (state) {
    fillForm(state.request);
    $('policy').value = state.policy || '';
    await applyPolicy($('policy').value);
  } else {
    fillForm(EXAMPLES[0].request(ctx));
    const p = await api.getPolicy();
    $('policy').value = p.ok ? p.data.toml : i.data.default_policy;
    await applyPolicy($('policy').value);
  }

  api.events((entry) => {
    const log = $('log');
    log.prepend(logEntry(entry));
    while (log.children.length > 50) log.lastChild.remove();
  }, (up) => { document.body.dataset.events = up ? 'connected' : 'disconnected'; });
  document.body.dataset.ready = 'true';
}

// ---- explain a pasted console error ----

async function explainError() {
  const out = $('explanation');
  const res = await api.explain($('console-error').value, $('explain-origin').value.trim() || undefined);
  if (!res.ok) {
    out.replaceChildren(el('p', { class: 'problem-line', role: 'alert' }, res.data.error));
    return;
  }
  const d = res.data;
  const fix = d.fix || {};
  const parts = [
    el('p', {}, el('strong', { 'data-code': d.code }, d.code), ` printed by ${d.browser}`, d.url ? ` for ${d.url}` : ''),
  ];
  if (d.also_possible && d.also_possible.length) {
    parts.push(el('p', { class: 'hint' }, `${d.browser} prints the same message for: ${d.also_possible.join(', ')}. Run the request above to tell which.`));
  }
  parts.push(el('p', {}, el('strong', {}, 'Why: '), d.explanation));
  parts.push(el('p', {}, el('strong', {}, 'Fix: '), fix.summary));
  if (fix.header && fix.value) parts.push(el('pre', {}, `${fix.header}: ${fix.value}`));
  if (fix.toml) parts.push(el('pre', { class: 'toml' }, fix.toml));
  if (d.origin === null) parts.push(el('p', { class: 'hint' }, 'The message does not name the page\'s origin: give it above for an exact fix.'));
  out.replaceChildren(...parts);
}

start();
