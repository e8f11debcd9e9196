// The JSON-lines protocol every driver speaks, whatever the engine.
//
// stdin:  {"id": 1, "cmd": "newPage"}                      -> {"page": 1}
//         {"id": 2, "cmd": "goto", "page": 1, "url": "..."} -> the status, or null
//         {"id": 3, "cmd": "eval", "page": 1, "js": "..."}  -> the expression's JSON value (promises awaited)
//         {"id": 4, "cmd": "screenshot", "page": 1, "path": "..."} -> null
//         {"id": 5, "cmd": "console", "page": 1}            -> [{type, text, url}] collected since last call
//         {"id": 6, "cmd": "closePage", "page": 1}          -> null
//         {"id": 7, "cmd": "quit"}                          -> null, then exit
// stdout: first line {"ready": true, "version": "..."} (or {"fatal": "..."}),
//         then one {"id", "ok": true, "result"} or {"id", "ok": false, "error"} per command,
//         in completion order (commands run concurrently).
import readline from 'node:readline';

export function send(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// Serves the protocol over pages an engine opens. `engine` has
// `newPage()` (returning a page with goto/evaluate/screenshot/close) and
// `close()`; `watch(page, push)` reports the page's console messages.
export function serve(engine, version, watch) {
  const pages = new Map();
  let nextPage = 1;
  const get = (id) => {
    const entry = pages.get(id);
    if (!entry) throw new Error(`no page ${id}`);
    return entry;
  };
  async function run(msg) {
    switch (msg.cmd) {
      case 'newPage': {
        const page = await engine.newPage();
        const id = nextPage++;
        const entry = { page, console: [] };
        watch(page, (m) => entry.console.push(m));
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

  send({ ready: true, version });
  const rl = readline.createInterface({ input: process.stdin });
  let quitting = false;
  async function quit() {
    if (quitting) return;
    quitting = true;
    try { await engine.close(); } catch (_) { /* already gone */ }
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
}
