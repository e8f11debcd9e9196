// corsair's WebKit driver: Debian's WebKitGTK MiniBrowser, driven by
// WebKitWebDriver (webkit2gtk-driver) over W3C WebDriver, commanded with the
// JSON lines of protocol.mjs. This WebKit build has no headless mode, so the
// driver starts its own Xvfb display.
//
// Each page is a WebDriver session of its own (a MiniBrowser process).
// WebDriver has no console log for WebKitGTK: `console` always answers [].
//
// Environment: CORSAIR_WEBKIT_DRIVER (default /usr/bin/WebKitWebDriver),
// CORSAIR_MINIBROWSER (default /usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { send, serve } from './protocol.mjs';

const webdriverPath = process.env.CORSAIR_WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
const minibrowser = process.env.CORSAIR_MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitFor(what, check, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start within ${ms / 1000} s`);
}

function start(cmd, args, env) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  return child;
}

let base;
async function wd(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json();
  if (data.value && data.value.error) throw new Error(`${data.value.error}: ${data.value.message}`);
  return data.value;
}

let version = 'unknown';
try {
  // A display of our own: the first free one from :90.
  let display = process.env.DISPLAY;
  if (!display) {
    for (let n = 90; n < 140; n++) {
      const lock = `/tmp/.X${n}-lock`;
      try { await import('node:fs').then((fs) => fs.promises.access(lock)); continue; } catch (_) { /* free */ }
      display = `:${n}`;
      start('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {});
      await waitFor('Xvfb', async () => {
        const fs = await import('node:fs');
        return fs.existsSync(lock);
      });
      break;
    }
  }
  const port = await freePort();
  start(webdriverPath, [`--port=${port}`, '--host=127.0.0.1'], { DISPLAY: display });
  base = `http://127.0.0.1:${port}`;
  await waitFor('WebKitWebDriver', async () => (await fetch(`${base}/status`)).ok);
} catch (e) {
  send({ fatal: String(e && e.message || e) });
  for (const c of children) c.kill();
  process.exit(1);
}

// A page: one WebDriver session.
async function newPage() {
  const session = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: minibrowser, args: ['--automation'] } } },
  });
  version = session.capabilities.browserVersion || version;
  const id = session.sessionId;
  await wd('POST', `/session/${id}/timeouts`, { script: 600000, pageLoad: 60000 });
  await wd('POST', `/session/${id}/window/rect`, { width: 1280, height: 800 }).catch(() => null);
  return {
    async goto(url) {
      await wd('POST', `/session/${id}/url`, { url });
      return null;
    },
    // The script's completion value, promises awaited, as playwright and
    // puppeteer give it: an indirect eval of the source.
    async evaluate(js) {
      const r = await wd('POST', `/session/${id}/execute/async`, {
        script: 'const done = arguments[arguments.length - 1];'
          + 'Promise.resolve().then(() => (0, eval)(arguments[0]))'
          + '.then((v) => done({ ok: true, v: v === undefined ? null : v }),'
          + ' (e) => done({ ok: false, e: String(e && e.message || e) }));',
        args: [js],
      });
      if (!r || !r.ok) throw new Error(r ? r.e : 'no result');
      return r.v;
    },
    async screenshot({ path }) {
      const png = await wd('GET', `/session/${id}/screenshot`);
      await writeFile(path, Buffer.from(png, 'base64'));
    },
    async close() {
      await wd('DELETE', `/session/${id}`);
    },
  };
}

// Probe once for the version, then serve.
const probe = await newPage().catch((e) => {
  send({ fatal: `cannot open MiniBrowser through WebKitWebDriver: ${e.message}` });
  for (const c of children) c.kill();
  process.exit(1);
});
await probe.close();

serve({
  newPage,
  async close() {
    for (const c of children) c.kill();
  },
}, version, () => {});
