// corsair's Firefox driver: Debian's firefox-esr, headless, over WebDriver
// BiDi (puppeteer-core), commanded with the JSON lines of protocol.mjs.
//
// Environment: CORSAIR_FIREFOX (default /usr/bin/firefox-esr), CORSAIR_USER_DATA_DIR (required:
// a fresh directory, used as the profile).
import puppeteer from 'puppeteer-core';
import { send, serve } from './protocol.mjs';

const executablePath = process.env.CORSAIR_FIREFOX || '/usr/bin/firefox-esr';
const userDataDir = process.env.CORSAIR_USER_DATA_DIR;

let browser;
try {
  if (!userDataDir) throw new Error('CORSAIR_USER_DATA_DIR is not set');
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    userDataDir,
    defaultViewport: { width: 1280, height: 800 },
    // The machine reaches no network: keep Firefox from calling home.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'browser.search.update': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'extensions.update.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'network.dns.disablePrefetch': true,
      'network.prefetch-next': false,
      'toolkit.telemetry.enabled': false,
    },
  });
} catch (e) {
  send({ fatal: String(e && e.message || e) });
  process.exit(1);
}
const version = (await browser.version()).replace(/^firefox\//, '');
for (const p of await browser.pages()) {
  try { await p.close(); } catch (_) { /* the last tab may stay */ }
}

// Firefox reports a blocked request's CORS error as a script error of the
// page (WebDriver BiDi log entry of type "javascript"), which puppeteer
// hands over as a page error: it is the console's error line.
const CORS_ERROR = 'Cross-Origin Request Blocked:';
serve(browser, version, (page, push) => {
  page.on('console', (m) => {
    const loc = m.location();
    push({ type: m.type(), text: m.text(), url: loc && loc.url || '' });
  });
  page.on('pageerror', (e) => {
    const text = e && e.message !== undefined ? e.message : String(e);
    push({ type: text.startsWith(CORS_ERROR) ? 'error' : 'pageerror', text, url: '' });
  });
});
