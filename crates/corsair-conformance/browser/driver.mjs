// corsair's Chromium driver: one headless Debian Chromium over the DevTools
// protocol (playwright-core), commanded with the JSON lines of protocol.mjs.
//
// Environment: CORSAIR_CHROMIUM (default /usr/bin/chromium), CORSAIR_USER_DATA_DIR (required: a fresh directory).
import { chromium } from 'playwright-core';
import { send, serve } from './protocol.mjs';

const executablePath = process.env.CORSAIR_CHROMIUM || '/usr/bin/chromium';
const userDataDir = process.env.CORSAIR_USER_DATA_DIR;
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

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

serve(context, version, (page, push) => {
  page.on('console', (m) => {
    const loc = m.location();
    push({ type: m.type(), text: m.text(), url: loc && loc.url || '' });
  });
  page.on('pageerror', (e) => push({ type: 'pageerror', text: String(e), url: '' }));
});
