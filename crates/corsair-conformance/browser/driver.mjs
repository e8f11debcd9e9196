// corsair's Chromium driver: one headless Chromium, commanded with JSON lines.
//
// stdin:  {"id": 1, "cmd": "newPage"}                      -> {"page": 1}
//         {"id": 2, "cmd": "goto", "page": 1, "url": "..."} -> null
//         {"id": 3, "cmd": "eval", "page": 1, "js": "..."}  -> the expression's JSON value (promises awaited)
//         {"id": 4, "cmd": "screenshot", "page": 1, "path": "..."} -> null
//         {"id": 5, "cmd": "console", "page": 1}            -> [{type, text, url}] collected since last call
//         {"id": 6, "cmd": "closePage", "page": 1}          -> null
//         {"id": 7, "cmd": "quit"}                          -> null, then exit
// stdout: first line {"ready": true, "version": "..."} (or {"fatal": "..."}),
//         then one {"id", "ok": true, "result"} or {"id", "ok": false, "error"} per command,
//         in completion order (commands run concurrently).
//
// Environment: CORSAIR_CHROMIUM (default /usr/bin/chromium), CORSAIR_USER_DATA_DIR (required: a fresh directory).
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const executablePath = process.env.CORSAIR_CHROMIUM || '/usr/bin/chromium';
const userDataDir = process.env.CORSAIR_USER_DATA_DIR;
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let context;
try {
  if (!userDataDir) throw new Error('CORSAIR_USER_DATA_DIR is not set');
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath, args, headless: true, viewport: { width: 1280, height: 800 },
  });
} catch (e) {
  send({ fatal: String(e && e.message || e) });
  process.exit(1);
}
const version = context.browser() ? context.browser().version() : 'unknown';
// The persistent context opens one blank page; close it so pages are only ours.
for (const p of context.pages()) await p.close();

const pages = new Map();
let nextPage = 1;

async function run(msg) {
  switch (msg.cmd) {
    case 'newPage': {
      const page = await context.newPage();
      const id = nextPage++;
      const entry = { page, console: [] };
      page.on('console', (m) => {
        const loc = m.location();
        entry.console.push({ type: m.type(), text: m.text(), url: loc && loc.url || '' });
      });
      page.on('pageerror', (e) => entry.console.push({ type: 'pageerror', text: String(e), url: '' }));
      pages.set(id, entry);
      return { page: id };
    }
    case 'goto': {
      const r = await get(msg.page).page.goto(msg.url, { waitUntil: 'load' });
      return r ? r.status() : null;
    }
    case 'eval':
      return await get(msg.page).page.evaluate(msg.js);
    case 'screenshot':
      await get(msg.page).page.screenshot({ path: msg.path, fullPage: true });
      return null;
    case 'console': {
      const entry = get(msg.page);
      const out = entry.console;
      entry.console = [];
      return out;
    }
    case 'closePage':
      await get(msg.page).page.close();
      pages.delete(msg.page);
      return null;
    case 'quit':
      return null;
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
}

function get(id) {
  const entry = pages.get(id);
  if (!entry) throw new Error(`no page ${id}`);
  return entry;
}

send({ ready: true, version });

const rl = readline.createInterface({ input: process.stdin });
let quitting = false;
async function quit() {
  if (quitting) return;
  quitting = true;
  try { await context.close(); } catch (_) { /* already gone */ }
  process.exit(0);
}
rl.on('line', (line) => {
  let msg;
  try { msg = JSON.parse(line); } catch (e) { send({ id: null, ok: false, error: `bad JSON: ${e}` }); return; }
  run(msg).then(
    (result) => {
      send({ id: msg.id, ok: true, result: result === undefined ? null : result });
      if (msg.cmd === 'quit') quit();
    },
    (e) => send({ id: msg.id, ok: false, error: String(e && e.message || e) }),
  );
});
rl.on('close', quit);
