//! `corsair playground` in headless Chromium (Debian's `chromium`, driven by
//! the conformance suite's driver): every ready example under every preset,
//! prediction and reality must agree and the page must show the expected
//! verdict; plus sharing, bad input and a subdomain origin. Screenshots go
//! to `target/playground-screenshots/`.
//!
//! Fails when Chromium or the driver's Node dependencies are missing,
//! unless `CORSAIR_SKIP_BROWSER=1` (run `bash scripts/test.sh`, which
//! installs them).

mod common;
mod playground_support;

use std::path::PathBuf;

use corsair_conformance::driver::{launch_for_test, Page};
use playground_support::Playground;
use serde_json::Value;

const EXAMPLES: [&str; 6] = [
    "simple-get",
    "json-post",
    "delete-token",
    "credentialed",
    "custom-header",
    "redirect",
];

/// What the page must show for each preset and example, worked out from
/// the Fetch rules by hand (not from corsair): `(preset, allowed per
/// example, in EXAMPLES order)`.
const EXPECTED: [(&str, [bool; 6]); 3] = [
    // `*`, GET/HEAD only, no credentials: only the simple GETs (and the
    // same-origin redirect between two of them) get through; the JSON POST,
    // DELETE and custom header need a preflight the policy refuses; the
    // credentialed request gets `*`, which credentials never accept.
    ("public-read-only", [true, false, false, false, false, true]),
    // The page's origin, credentials, methods and headers listed: all pass.
    ("spa-cookies", [true, true, true, true, true, true]),
    // Only subdomains of localhost: the page (127.0.0.1) is refused everywhere.
    ("subdomains", [false, false, false, false, false, false]),
];

/// `$CARGO_TARGET_DIR/playground-screenshots`, or the workspace's
/// `target/playground-screenshots`.
fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("playground-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Evaluates JavaScript that polls until `cond` (an expression) holds, then
/// returns `result` (an expression); fails after ~15 s.
fn wait_for(page: &Page<'_>, what: &str, cond: &str, result: &str) -> Value {
    let js = format!(
        "(async () => {{ for (let i = 0; i < 300; i++) {{ if ({cond}) return {result}; \
         await new Promise(r => setTimeout(r, 50)); }} \
         throw new Error('timed out waiting for {what}: ' + document.getElementById('result').innerText.slice(0, 500)); }})()"
    );
    page.eval(&js).unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn open(page: &Page<'_>, url: &str) {
    page.goto(url).expect("load the playground");
    wait_for(
        page,
        "page ready",
        "document.body.dataset.ready === 'true'",
        "true",
    );
}

fn use_preset(page: &Page<'_>, preset: &str) {
    page.eval(&format!(
        "document.body.dataset.policy = 'pending'; document.querySelector('[data-preset=\"{preset}\"]').click(); true"
    ))
    .expect("click preset");
    let state = wait_for(
        page,
        "policy applied",
        "document.body.dataset.policy !== 'pending'",
        "document.body.dataset.policy",
    );
    assert_eq!(state, "applied", "preset {preset} was not applied");
}

/// Clicks an example (unless `None`), runs it and returns the verdict's
/// data attributes and the result text.
fn run(page: &Page<'_>, example: Option<&str>) -> Value {
    let click = example
        .map(|e| format!("document.querySelector('[data-example=\"{e}\"]').click();"))
        .unwrap_or_default();
    page.eval(&format!(
        "document.getElementById('result').replaceChildren(); {click} document.getElementById('run').click(); true"
    ))
    .expect("run");
    wait_for(
        page,
        "verdict",
        "document.querySelector('#verdict[data-state=done]')",
        "({...document.getElementById('verdict').dataset, text: document.getElementById('result').innerText})",
    )
}

#[test]
fn playground_predictions_agree_with_chromium() {
    let Some(browser) = launch_for_test("the playground browser test") else {
        return;
    };
    let pg = Playground::start();
    let shots = screenshots();
    let page = browser.new_page().expect("page");
    open(&page, &pg.page_url());
    assert_eq!(
        page.eval("document.getElementById('profile').value")
            .expect("profile"),
        "chromium"
    );

    let mut failures = Vec::new();
    for (preset, expected) in EXPECTED {
        use_preset(&page, preset);
        for (example, allowed) in EXAMPLES.iter().zip(expected) {
            let v = run(&page, Some(example));
            let want = if allowed { "allowed" } else { "blocked" };
            if v["agree"] != "true" || v["predicted"] != want || v["observed"] != want {
                failures.push(format!(
                    "{preset} / {example}: want {want} and agreement, page shows predicted={} observed={} agree={}\n{}",
                    v["predicted"], v["observed"], v["agree"], v["text"].as_str().unwrap_or("")
                ));
            }
            let text = v["text"].as_str().unwrap_or("");
            // corsair's predicted console message is the one Chromium printed.
            let predicted_console = page
                .eval(
                    "(document.querySelector('.cell.predicted pre.console') || {}).innerText || ''",
                )
                .expect("predicted console");
            let console = page.take_console().expect("console");
            if let Some(msg) = predicted_console.as_str().filter(|m| !m.is_empty()) {
                if !console.iter().any(|c| c.text == msg) {
                    failures.push(format!(
                        "{preset} / {example}: predicted console message\n  {msg}\nnot among Chromium's:\n  {}",
                        console.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n  ")
                    ));
                }
            }
            if allowed {
                assert!(
                    text.contains("Prediction and browser agree: ALLOWED") || v["agree"] != "true",
                    "{text}"
                );
            } else {
                // The page tells where the browser's own message is and what corsair predicts it says.
                assert!(
                    text.contains("console") && text.contains("TypeError"),
                    "{preset}/{example}: {text}"
                );
            }
            page.screenshot(&shots.join(format!("{preset}-{example}.png")))
                .expect("screenshot");
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );

    // The fix button: after a blocked DELETE, applying corsair's fix makes it pass.
    use_preset(&page, "public-read-only");
    let v = run(&page, Some("delete-token"));
    assert_eq!(v["observed"], "blocked");

    // The explain box: Chromium's own console message, pasted, gives the
    // code the page's prediction shows.
    let chromium_said = page
        .take_console()
        .expect("console")
        .into_iter()
        .map(|c| c.text)
        .find(|t| t.contains("blocked by CORS policy"))
        .expect("Chromium's CORS message");
    let predicted = page
        .eval("document.querySelector('.cell.predicted .big.bad').innerText")
        .expect("predicted verdict");
    page.eval(&format!(
        "document.getElementById('console-error').value = {}; document.getElementById('explain').click(); true",
        serde_json::to_string(&chromium_said).expect("json")
    ))
    .expect("paste and explain");
    let code = wait_for(
        &page,
        "the explanation",
        "document.querySelector('#explanation [data-code]')",
        "document.querySelector('#explanation [data-code]').dataset.code",
    );
    let code = code.as_str().expect("code");
    assert!(
        predicted.as_str().unwrap_or("").ends_with(code),
        "explained {code}, predicted {predicted}"
    );
    let explanation = page
        .eval("document.getElementById('explanation').innerText")
        .expect("explanation");
    assert!(
        explanation.as_str().unwrap_or("").contains("[cors]"),
        "{explanation}"
    );
    page.screenshot(&shots.join("explain.png"))
        .expect("screenshot");
    page.eval("document.body.dataset.policy = 'pending'; document.querySelector('.apply-fix').click(); true")
        .expect("apply fix");
    wait_for(
        &page,
        "fix applied",
        "document.body.dataset.policy === 'applied'",
        "true",
    );
    let v = run(&page, None);
    assert_eq!(
        (v["observed"].as_str(), v["agree"].as_str()),
        (Some("allowed"), Some("true")),
        "{}",
        v["text"]
    );
}

#[test]
fn playground_handles_bad_input_sharing_and_subdomains_in_chromium() {
    let Some(browser) = launch_for_test("the playground browser test") else {
        return;
    };
    let pg = Playground::start();
    let shots = screenshots();
    let page = browser.new_page().expect("page");
    open(&page, &pg.page_url());

    // Every form control has a label; result regions are announced.
    let a11y = page
        .eval("({unlabelled: [...document.querySelectorAll('input, select, textarea')].filter(e => e.labels.length === 0).map(e => e.id), \
                live: ['result', 'problems', 'policy-status', 'explanation'].every(id => document.getElementById(id).getAttribute('aria-live'))})")
        .expect("a11y");
    assert_eq!(a11y["unlabelled"], serde_json::json!([]), "{a11y}");
    assert_eq!(a11y["live"], true, "{a11y}");

    // Readable on a phone: at 375 px nothing scrolls sideways.
    let phone = page
        .eval(
            "(async () => { const f = document.createElement('iframe'); f.id = 'phone'; \
             f.style.cssText = 'width:375px;height:1400px;border:1px solid #888'; f.src = '/'; \
             document.body.prepend(f); await new Promise(r => f.onload = r); \
             for (let i = 0; i < 200 && f.contentDocument.body.dataset.ready !== 'true'; i++) await new Promise(r => setTimeout(r, 50)); \
             f.contentDocument.getElementById('run').click(); \
             for (let i = 0; i < 200 && !f.contentDocument.querySelector('#verdict[data-state=done]'); i++) await new Promise(r => setTimeout(r, 50)); \
             const d = f.contentDocument.documentElement; \
             const wide = [...f.contentDocument.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > d.clientWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className); \
             return {scroll: d.scrollWidth, client: d.clientWidth, wide}; })()",
        )
        .expect("phone layout");
    assert!(
        phone["scroll"].as_u64() <= phone["client"].as_u64(),
        "page wider than a phone: {phone}"
    );
    page.screenshot(&shots.join("phone-375px.png"))
        .expect("screenshot");
    page.eval("document.getElementById('phone').remove(); true")
        .expect("remove frame");

    // Invalid policy: every problem inline, nothing applied.
    page.eval(
        "const t = document.getElementById('policy'); t.value = '[cors]\\nallow_origins = [\"*\"]\\nallow_credentials = true\\nallow_methods = [\"get\"]\\n'; \
         t.dispatchEvent(new Event('input')); true",
    )
    .expect("type policy");
    let problems = wait_for(
        &page,
        "problems",
        "document.body.dataset.policy === 'rejected'",
        "[...document.querySelectorAll('#problems li.error')].map(li => li.innerText)",
    );
    let problems = problems.as_array().expect("list");
    assert!(problems.len() >= 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap_or("").contains("allow_methods")),
        "{problems:?}"
    );
    let status = page
        .eval("document.getElementById('policy-status').innerText")
        .expect("status");
    assert!(
        status.as_str().unwrap_or("").contains("Not applied"),
        "{status}"
    );
    page.screenshot(&shots.join("invalid-policy.png"))
        .expect("screenshot");

    // A non-HTTP URL: corsair predicts fetch() throws, Chromium rejects.
    use_preset(&page, "spa-cookies");
    page.eval("document.getElementById('url').value = 'ftp://127.0.0.1/file'; true")
        .expect("url");
    let v = run(&page, None);
    assert_eq!(
        (
            v["predicted"].as_str(),
            v["observed"].as_str(),
            v["agree"].as_str()
        ),
        (Some("blocked"), Some("blocked"), Some("true")),
        "{}",
        v["text"]
    );
    assert!(
        v["text"]
            .as_str()
            .unwrap_or("")
            .contains("unsupported scheme"),
        "{}",
        v["text"]
    );

    // An unreachable server: no prediction, said plainly.
    let closed = common::free_port();
    page.eval(&format!(
        "document.getElementById('url').value = 'http://127.0.0.1:{closed}/x'; true"
    ))
    .expect("url");
    let v = run(&page, None);
    assert_eq!(v["agree"], "none", "{}", v["text"]);
    assert!(
        v["text"]
            .as_str()
            .unwrap_or("")
            .contains("could not connect"),
        "{}",
        v["text"]
    );
    page.screenshot(&shots.join("unreachable.png"))
        .expect("screenshot");

    // Sharing: the link restores the request and the policy in a new tab.
    page.eval("document.querySelector('[data-example=\"json-post\"]').click(); document.getElementById('share').click(); true")
        .expect("share");
    let href = wait_for(
        &page,
        "share link",
        "location.hash.startsWith('#s=')",
        "location.href",
    );
    let page2 = browser.new_page().expect("page");
    open(&page2, href.as_str().expect("href"));
    wait_for(
        &page2,
        "policy",
        "document.body.dataset.policy === 'applied'",
        "true",
    );
    let restored = page2
        .eval("({method: document.getElementById('method').value, body: document.getElementById('body').value, url: document.getElementById('url').value, policy: document.getElementById('policy').value})")
        .expect("read form");
    assert_eq!(restored["method"], "POST");
    assert!(restored["body"].as_str().unwrap_or("").contains("new item"));
    assert_eq!(restored["url"], pg.api_url("/items"));
    assert!(restored["policy"]
        .as_str()
        .unwrap_or("")
        .contains("allow_credentials = true"));
    let v = run(&page2, None);
    assert_eq!(
        (v["observed"].as_str(), v["agree"].as_str()),
        (Some("allowed"), Some("true")),
        "{}",
        v["text"]
    );
    page2
        .screenshot(&shots.join("shared-link.png"))
        .expect("screenshot");

    // The comparison flags a disagreement loudly (fed a wrong prediction).
    let flagged = page2
        .eval("import('/compare.js').then(m => m.compare({allowed: true, preflight_sent: false, exposed_headers: ['x'], exchanges: []}, {ok: false, headers: []}, []))")
        .expect("compare");
    assert_eq!(flagged["agree"], false, "{flagged}");

    // The subdomain preset allows a page opened on app.localhost.
    let sub = browser.new_page().expect("page");
    open(&sub, &format!("http://app.localhost:{}/", pg.page_port));
    use_preset(&sub, "subdomains");
    let note = sub
        .eval("document.getElementById('preset-note').innerText")
        .expect("note");
    assert!(
        note.as_str().unwrap_or("").contains("app.localhost"),
        "{note}"
    );
    for example in ["simple-get", "json-post", "delete-token"] {
        let v = run(&sub, Some(example));
        assert_eq!(
            (v["observed"].as_str(), v["agree"].as_str()),
            (Some("allowed"), Some("true")),
            "{example}: {}",
            v["text"]
        );
    }
    sub.screenshot(&shots.join("subdomains-from-app-localhost.png"))
        .expect("screenshot");
}
