//! Console messages read back: which engine printed a pasted CORS error,
//! and which [`CorsError`] it reports, so that its explanation and fix can
//! be given without sending a request (`corsair explain`).
//!
//! The wordings recognised are the ones [`CorsError::console_message`]
//! writes for each [`Profile`] (see that module for their sources), found
//! anywhere in the pasted text, so console prefixes (`[Error]`, a source
//! location) and surrounding lines do no harm; typographic quotes and
//! straight ones are both read. Some engines print one message for several
//! failures (WebKit's "is not allowed by Access-Control-Allow-Origin" for a
//! missing, invalid or different origin): the most common one is chosen
//! and the others are listed in [`Explained::also_possible`].

use super::check::unequal_allow_origin;
use super::error::{CorsError, CorsErrorKind, ErrorContext, Stage};
use super::profile::Profile;
use super::request::Credentials;

/// A console message understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The engine whose wording it is.
    pub browser: Profile,
    /// The failure, with what the message tells of the request.
    pub error: CorsError,
    /// Other codes the same message is printed for, in that engine.
    pub also_possible: Vec<&'static str>,
}

/// Why a pasted text was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrecognized {
    /// What to do about it.
    pub hint: String,
}

impl std::fmt::Display for Unrecognized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hint)
    }
}

impl std::error::Error for Unrecognized {}

/// Reads a console message (Chromium's "Access to fetch at ... has been
/// blocked by CORS policy: ...", Firefox's "Cross-Origin Request Blocked:
/// ... (Reason: ...)", WebKit's "... Fetch API cannot load ... due to
/// access control checks.", or corsair's spec wording).
pub fn explain(text: &str) -> Result<Explained, Unrecognized> {
    // One spelling of quotes and no line breaks inside a message.
    let text = text.replace(['‘', '’'], "'").replace('\r', "");
    chromium(&text)
        .or_else(|| firefox(&text))
        .or_else(|| webkit(&text))
        .or_else(|| spec(&text))
        .ok_or_else(|| unrecognized(&text))
}

fn unrecognized(text: &str) -> Unrecognized {
    let hint = if text.contains("CORS request did not succeed") {
        "Firefox prints \"CORS request did not succeed\" when the request failed before any \
         response: the server is unreachable, refused the connection, or its TLS certificate \
         was rejected. It is not a CORS header problem: check the URL and that the server \
         answers (corsair check URL --origin ORIGIN tells which)."
    } else if text.contains("due to access control checks") {
        "WebKit prints the reason on the line before \"Fetch API cannot load ...\": paste both \
         lines."
    } else {
        "not a CORS console message corsair knows: paste the whole line the browser printed \
         (Chromium: \"Access to fetch at ... has been blocked by CORS policy: ...\"; Firefox: \
         \"Cross-Origin Request Blocked: ... (Reason: ...)\"; WebKit: the line before \"Fetch \
         API cannot load ...\")"
    };
    Unrecognized { hint: hint.into() }
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// The rest of the line after `start`.
fn after<'a>(text: &'a str, start: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let rest = &text[from..];
    Some(rest.split('\n').next().unwrap_or(rest))
}

/// A CorsError for `kind` with what a message says of the request.
fn error(
    kind: CorsErrorKind,
    stage: Stage,
    status: Option<u16>,
    url: &str,
    origin: &str,
) -> CorsError {
    use CorsErrorKind::*;
    let credentials = match kind {
        WildcardWithCredentials | CredentialsNotTrue { .. } => Credentials::Include,
        MethodNotAllowed {
            wildcard_ignored: true,
            ..
        }
        | HeaderNotAllowed {
            wildcard_ignored: true,
            ..
        } => Credentials::Include,
        _ => Credentials::SameOrigin,
    };
    let method = match &kind {
        MethodNotAllowed { method, .. } if !method.is_empty() => method.clone(),
        _ => "GET".into(),
    };
    let unsafe_headers = match &kind {
        HeaderNotAllowed { name, .. } if !name.is_empty() => vec![name.clone()],
        _ => Vec::new(),
    };
    CorsError {
        kind,
        stage,
        status,
        context: ErrorContext {
            url: url.into(),
            initial_url: url.into(),
            origin: origin.into(),
            request_origin: origin.into(),
            method,
            unsafe_headers,
            credentials,
        },
    }
}

/// Where a failure of `kind` happens when the message does not say.
fn stage_of(kind: &CorsErrorKind) -> Stage {
    use CorsErrorKind::*;
    match kind {
        PreflightNotOk { .. }
        | RedirectInPreflight { .. }
        | InvalidAllowMethodsToken { .. }
        | InvalidAllowHeadersToken { .. }
        | MethodNotAllowed { .. }
        | HeaderNotAllowed { .. } => Stage::Preflight,
        TooManyRedirects
        | RedirectWithUserinfo { .. }
        | RedirectNotHttp { .. }
        | InvalidRedirectLocation { .. } => Stage::Redirect,
        _ => Stage::Actual,
    }
}

fn explained(
    browser: Profile,
    error: CorsError,
    also_possible: Vec<&'static str>,
) -> Option<Explained> {
    Some(Explained {
        browser,
        error,
        also_possible,
    })
}

fn chromium(text: &str) -> Option<Explained> {
    use CorsErrorKind::*;
    for (net, kind) in [
        ("net::ERR_TOO_MANY_REDIRECTS", TooManyRedirects),
        (
            "net::ERR_INVALID_REDIRECT",
            InvalidRedirectLocation {
                location: String::new(),
            },
        ),
    ] {
        if let Some(line) = text.lines().find(|l| l.contains(net)) {
            // "GET https://... net::ERR_..."
            let url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://") || w.starts_with("https://"))
                .unwrap_or("");
            return explained(
                Profile::Chromium,
                error(kind, Stage::Redirect, None, url, ""),
                vec![],
            );
        }
    }
    let head = "Access to fetch at '";
    let start = text.find(head)?;
    let text = &text[start..];
    let url = between(text, head, "'")?;
    let origin = between(text, "from origin '", "'")?;
    let body = after(text, "has been blocked by CORS policy: ")?;
    let (preflight, body) = match body
        .strip_prefix("Response to preflight request doesn't pass access control check: ")
    {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let quoted = |start: &str| between(body, start, "'").map(str::to_owned);
    let kind = if body.starts_with("No 'Access-Control-Allow-Origin' header is present") {
        MissingAllowOrigin
    } else if body.contains("must not be the wildcard '*'") {
        WildcardWithCredentials
    } else if let Some(value) = quoted("contains multiple values '") {
        MultipleAllowOrigin { value }
    } else if let Some(value) = quoted("contains the invalid value '") {
        InvalidAllowOrigin { value }
    } else if let Some(value) = quoted("header has a value '") {
        AllowOriginMismatch { value }
    } else if let Some(value) =
        quoted("'Access-Control-Allow-Credentials' header in the response is '")
    {
        CredentialsNotTrue {
            value: (!value.is_empty()).then_some(value),
        }
    } else if body.starts_with("It does not have HTTP ok status") {
        PreflightNotOk { status: 0 }
    } else if body.starts_with("Redirect is not allowed for a preflight request") {
        RedirectInPreflight { status: 0 }
    } else if body.starts_with("Cannot parse Access-Control-Allow-Methods") {
        InvalidAllowMethodsToken {
            token: String::new(),
            value: String::new(),
        }
    } else if body.starts_with("Cannot parse Access-Control-Allow-Headers") {
        InvalidAllowHeadersToken {
            token: String::new(),
            value: String::new(),
        }
    } else if let Some(method) = between(
        body,
        "Method ",
        " is not allowed by Access-Control-Allow-Methods",
    ) {
        MethodNotAllowed {
            method: method.into(),
            wildcard_ignored: false,
        }
    } else if let Some(name) = between(
        body,
        "Request header field ",
        " is not allowed by Access-Control-Allow-Headers",
    ) {
        HeaderNotAllowed {
            name: name.to_ascii_lowercase(),
            wildcard_ignored: false,
            disallowed: Vec::new(),
        }
    } else if let Some(location) = quoted("Redirect location '") {
        RedirectWithUserinfo { location }
    } else if body.starts_with("Cross origin requests are only supported for protocol schemes") {
        RedirectNotHttp {
            location: String::new(),
        }
    } else {
        return None;
    };
    let stage = if preflight {
        Stage::Preflight
    } else {
        stage_of(&kind)
    };
    let initial = between(text, "(redirected from '", "'");
    let mut e = error(kind, stage, None, url, origin);
    if let Some(initial) = initial {
        e.context.initial_url = initial.into();
    }
    explained(Profile::Chromium, e, vec![])
}

fn firefox(text: &str) -> Option<Explained> {
    use CorsErrorKind::*;
    let head = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at ";
    let start = text.find(head)?;
    let text = &text[start..];
    // The credentials-with-`*` line quotes the URL.
    let url = between(text, head, ". (Reason: ")?.trim_matches('\'');
    let reason = between(text, "(Reason: ", ").")?;
    let status = between(text, "Status code: ", ".").and_then(|s| s.trim().parse::<u16>().ok());
    let quoted = |start: &str| between(reason, start, "'").map(str::to_owned);
    let mut also = vec![];
    let kind = if reason.contains("'Access-Control-Allow-Origin' missing") {
        MissingAllowOrigin
    } else if reason.starts_with("Credential is not supported") {
        WildcardWithCredentials
    } else if reason.starts_with("Multiple CORS header 'Access-Control-Allow-Origin'") {
        MultipleAllowOrigin {
            value: String::new(),
        }
    } else if let Some(value) = quoted("'Access-Control-Allow-Origin' does not match '") {
        // Firefox words every unequal value alike (several values too: see
        // `CorsError::firefox`); the value tells which it is.
        unequal_allow_origin(value)
    } else if reason.contains("'Access-Control-Allow-Credentials'") {
        CredentialsNotTrue { value: None }
    } else if reason.starts_with("CORS preflight response did not succeed") {
        match status {
            Some(s @ 300..=399) => RedirectInPreflight { status: s },
            s => PreflightNotOk {
                status: s.unwrap_or(0),
            },
        }
    } else if let Some(token) = between(
        reason,
        "invalid token '",
        "' in CORS header 'Access-Control-Allow-Methods'",
    ) {
        InvalidAllowMethodsToken {
            token: token.into(),
            value: String::new(),
        }
    } else if let Some(token) = between(
        reason,
        "invalid token '",
        "' in CORS header 'Access-Control-Allow-Headers'",
    ) {
        InvalidAllowHeadersToken {
            token: token.into(),
            value: String::new(),
        }
    } else if reason.contains("'Access-Control-Allow-Methods'") {
        MethodNotAllowed {
            method: quoted("method '").unwrap_or_default(),
            wildcard_ignored: false,
        }
    } else if let Some(name) = quoted("header '").or_else(|| quoted("missing token '")) {
        HeaderNotAllowed {
            name: name.to_ascii_lowercase(),
            wildcard_ignored: false,
            disallowed: Vec::new(),
        }
    } else if reason.starts_with("CORS request external redirect not allowed") {
        // Printed before a redirected preflight's failure; older Firefox
        // versions printed it for redirects to other schemes too.
        also = vec!["redirect-not-http", "redirect-with-userinfo"];
        RedirectInPreflight { status: 0 }
    } else {
        return None;
    };
    let stage = stage_of(&kind);
    explained(Profile::Firefox, error(kind, stage, status, url, ""), also)
}

fn webkit(text: &str) -> Option<Explained> {
    use CorsErrorKind::*;
    let url = between(
        text,
        "Fetch API cannot load ",
        " due to access control checks",
    )
    .unwrap_or("");
    let status = after(text, "Status code: ").and_then(|s| s.trim().parse::<u16>().ok());
    let mut also = vec![];
    let mut origin = "";
    let kind = if let Some(o) = between(
        text,
        "Origin ",
        " is not allowed by Access-Control-Allow-Origin",
    ) {
        origin = o.rsplit(' ').next().unwrap_or(o);
        also = vec!["invalid-allow-origin", "allow-origin-mismatch"];
        MissingAllowOrigin
    } else if text.contains(
        "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true",
    ) {
        WildcardWithCredentials
    } else if text.contains("Access-Control-Allow-Origin cannot contain more than one origin") {
        MultipleAllowOrigin {
            value: String::new(),
        }
    } else if text.contains("but Access-Control-Allow-Credentials is not \"true\"") {
        CredentialsNotTrue { value: None }
    } else if text.contains("Preflight response is not successful") {
        match status {
            Some(s @ 300..=399) => RedirectInPreflight { status: s },
            s => PreflightNotOk {
                status: s.unwrap_or(0),
            },
        }
    } else if let Some(value) = after(
        text,
        "Header Access-Control-Allow-Methods has an invalid value: ",
    ) {
        InvalidAllowMethodsToken {
            token: String::new(),
            value: value.into(),
        }
    } else if let Some(value) = after(
        text,
        "Header Access-Control-Allow-Headers has an invalid value: ",
    ) {
        InvalidAllowHeadersToken {
            token: String::new(),
            value: value.into(),
        }
    } else if let Some(method) = between(
        text,
        "Method ",
        " is not allowed by Access-Control-Allow-Methods",
    ) {
        MethodNotAllowed {
            method: method.rsplit(' ').next().unwrap_or(method).into(),
            wildcard_ignored: false,
        }
    } else if let Some(name) = between(
        text,
        "Request header field ",
        " is not allowed by Access-Control-Allow-Headers",
    ) {
        HeaderNotAllowed {
            name: name.rsplit(' ').next().unwrap_or(name).to_ascii_lowercase(),
            wildcard_ignored: false,
            disallowed: Vec::new(),
        }
    } else if let Some(location) = between(
        text,
        "Cross-origin redirection to ",
        " denied by Cross-Origin Resource Sharing policy: URL contains credentials",
    ) {
        RedirectWithUserinfo {
            location: location.into(),
        }
    } else if let Some(location) = between(
        text,
        "Cross-origin redirection to ",
        " denied by Cross-Origin Resource Sharing policy: not an HTTP(S) URL",
    ) {
        RedirectNotHttp {
            location: location.into(),
        }
    } else if text.contains("too many HTTP redirects") {
        TooManyRedirects
    } else if let Some(location) = between(text, "Redirect location ", " is not a valid URL") {
        InvalidRedirectLocation {
            location: location.into(),
        }
    } else {
        return None;
    };
    let stage = stage_of(&kind);
    explained(
        Profile::Webkit,
        error(kind, stage, status, url, origin),
        also,
    )
}

/// corsair's own wording of the Fetch Standard (`--browser spec`), which
/// ends with the code in brackets.
fn spec(text: &str) -> Option<Explained> {
    use CorsErrorKind::*;
    let url = between(text, "fetch() of '", "'")?;
    let origin = between(text, "from origin '", "'")?;
    let line = after(text, "' failed: ")?;
    let code = line.rsplit_once('[')?.1.strip_suffix(']')?;
    let quoted = |start: &str| {
        between(line, start, "`")
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let kind = match code {
        "missing-allow-origin" => MissingAllowOrigin,
        "wildcard-with-credentials" => WildcardWithCredentials,
        "multiple-allow-origin" => MultipleAllowOrigin {
            value: quoted("Access-Control-Allow-Origin `"),
        },
        "invalid-allow-origin" => InvalidAllowOrigin {
            value: quoted("Access-Control-Allow-Origin `"),
        },
        "allow-origin-mismatch" => AllowOriginMismatch {
            value: quoted("Access-Control-Allow-Origin `"),
        },
        "credentials-not-true" => CredentialsNotTrue {
            value: between(line, "Access-Control-Allow-Credentials `", "`").map(str::to_owned),
        },
        "preflight-not-ok" => PreflightNotOk {
            status: between(line, "has status ", ";")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        },
        "redirect-in-preflight" => RedirectInPreflight {
            status: between(line, "is a redirect (", ")")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        },
        "invalid-allow-methods-token" => InvalidAllowMethodsToken {
            token: quoted("Access-Control-Allow-Methods with `"),
            value: String::new(),
        },
        "invalid-allow-headers-token" => InvalidAllowHeadersToken {
            token: quoted("Access-Control-Allow-Headers with `"),
            value: String::new(),
        },
        "method-not-allowed" => MethodNotAllowed {
            method: quoted("list `"),
            wildcard_ignored: line.contains("allows methods with `*`"),
        },
        "header-not-allowed" => HeaderNotAllowed {
            name: between(line, "request header `", "`")
                .or_else(|| between(line, "does not list `", "`"))
                .map_or_else(|| "authorization".into(), str::to_owned),
            wildcard_ignored: line.contains("allows headers with `*`"),
            disallowed: Vec::new(),
        },
        "too-many-redirects" => TooManyRedirects,
        "redirect-with-userinfo" => RedirectWithUserinfo {
            location: quoted("redirects to `"),
        },
        "redirect-not-http" => RedirectNotHttp {
            location: quoted("redirects to `"),
        },
        "invalid-redirect-location" => InvalidRedirectLocation {
            location: quoted("has Location `"),
        },
        _ => return None,
    };
    let stage = if line.starts_with("the CORS-preflight response") {
        Stage::Preflight
    } else if line.starts_with("a redirect response") {
        Stage::Redirect
    } else {
        Stage::Actual
    };
    explained(Profile::Spec, error(kind, stage, None, url, origin), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every kind, at the stage it happens.
    fn every_error() -> Vec<CorsError> {
        use CorsErrorKind::*;
        let kinds = vec![
            MissingAllowOrigin,
            WildcardWithCredentials,
            MultipleAllowOrigin {
                value: "https://a.example, https://b.example".into(),
            },
            InvalidAllowOrigin {
                value: "*.example.com".into(),
            },
            AllowOriginMismatch {
                value: "https://other.example".into(),
            },
            CredentialsNotTrue {
                value: Some("TRUE".into()),
            },
            CredentialsNotTrue { value: None },
            PreflightNotOk { status: 401 },
            RedirectInPreflight { status: 301 },
            InvalidAllowMethodsToken {
                token: "PUT;".into(),
                value: "GET, PUT;".into(),
            },
            InvalidAllowHeadersToken {
                token: "x y".into(),
                value: "x y".into(),
            },
            MethodNotAllowed {
                method: "PUT".into(),
                wildcard_ignored: false,
            },
            HeaderNotAllowed {
                name: "x-token".into(),
                wildcard_ignored: false,
                disallowed: vec!["x-token".into()],
            },
            TooManyRedirects,
            RedirectWithUserinfo {
                location: "https://u:p@api.example/x".into(),
            },
            RedirectNotHttp {
                location: "ftp://api.example/x".into(),
            },
            InvalidRedirectLocation {
                location: "http://[oops".into(),
            },
        ];
        let mut all = Vec::new();
        for kind in kinds {
            let stage = stage_of(&kind);
            let status = match &kind {
                PreflightNotOk { status } | RedirectInPreflight { status } => Some(*status),
                _ => Some(200),
            };
            all.push(error(
                kind.clone(),
                stage,
                status,
                "https://api.example/items",
                "https://app.example",
            ));
            // Access-check failures happen on preflights too.
            if stage == Stage::Actual {
                all.push(error(
                    kind,
                    Stage::Preflight,
                    Some(204),
                    "https://api.example/items",
                    "https://app.example",
                ));
            }
        }
        all
    }

    #[test]
    fn every_message_of_every_engine_is_read_back_to_its_code() {
        for e in every_error() {
            for profile in Profile::ALL {
                let message =
                    e.console_message(profile, "https://api.example/items", "https://app.example");
                let firefox_network_error = profile == Profile::Firefox
                    && matches!(
                        e.kind,
                        CorsErrorKind::TooManyRedirects
                            | CorsErrorKind::InvalidRedirectLocation { .. }
                            | CorsErrorKind::RedirectWithUserinfo { .. }
                            | CorsErrorKind::RedirectNotHttp { .. }
                    );
                if firefox_network_error {
                    // Firefox prints its generic network failure here.
                    let hint = explain(&message).unwrap_err().hint;
                    assert!(hint.contains("before any response"), "{hint}");
                    continue;
                }
                let got =
                    explain(&message).unwrap_or_else(|u| panic!("{profile:?}: {message}: {u}"));
                assert_eq!(got.browser, profile, "{message}");
                let code = got.error.code();
                assert!(
                    code == e.code() || got.also_possible.contains(&e.code()),
                    "{profile:?} {}: read as {code} (also {:?}) from {message}",
                    e.code(),
                    got.also_possible
                );
                if profile != Profile::Webkit || !url_unknown(&message) {
                    assert_eq!(
                        got.error.context.url, "https://api.example/items",
                        "{message}"
                    );
                }
                if matches!(profile, Profile::Chromium | Profile::Spec)
                    && e.chromium_net_error().is_none()
                {
                    assert_eq!(got.error.context.origin, "https://app.example", "{message}");
                }
            }
        }
    }

    fn url_unknown(message: &str) -> bool {
        !message.contains("Fetch API cannot load https://api.example/items")
    }

    #[test]
    fn console_prefixes_and_typographic_quotes_are_read() {
        let pasted = "localhost/:1 Access to fetch at 'https://api.example/x' from origin \
                      'http://localhost:3000' has been blocked by CORS policy: Response to \
                      preflight request doesn't pass access control check: No \
                      'Access-Control-Allow-Origin' header is present on the requested resource.\n\
                      app.js:12  GET https://api.example/x net::ERR_FAILED";
        let got = explain(pasted).unwrap();
        assert_eq!(
            (got.browser, got.error.code()),
            (Profile::Chromium, "missing-allow-origin")
        );
        assert_eq!(got.error.stage, Stage::Preflight);
        assert_eq!(got.error.context.origin, "http://localhost:3000");
        let firefox = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the \
                       remote resource at https://api.example/x. (Reason: CORS header \
                       'Access-Control-Allow-Origin' missing). Status code: 404.";
        let got = explain(firefox).unwrap();
        assert_eq!(
            (got.browser, got.error.code(), got.error.status),
            (Profile::Firefox, "missing-allow-origin", Some(404))
        );
        let safari = "[Error] Origin http://localhost:3000 is not allowed by \
                      Access-Control-Allow-Origin. Status code: 200\n[Error] Fetch API cannot \
                      load https://api.example/x due to access control checks.";
        let got = explain(safari).unwrap();
        assert_eq!(got.browser, Profile::Webkit);
        assert_eq!(got.error.context.origin, "http://localhost:3000");
        assert_eq!(got.error.context.url, "https://api.example/x");
    }

    #[test]
    fn other_text_is_not_a_cors_error() {
        for text in [
            "",
            "TypeError: Failed to fetch",
            "Uncaught ReferenceError: x is not defined",
        ] {
            assert!(explain(text).is_err(), "{text}");
        }
        let webkit_alone =
            "Fetch API cannot load https://api.example/x due to access control checks.";
        assert!(explain(webkit_alone)
            .unwrap_err()
            .hint
            .contains("paste both"));
    }

    #[test]
    fn a_firefox_origin_value_tells_mismatch_from_invalid() {
        let msg = |v: &str| {
            format!(
                "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
                 resource at https://api.example/x. (Reason: CORS header ‘Access-Control-Allow-Origin’ \
                 does not match ‘{v}’)."
            )
        };
        assert_eq!(
            explain(&msg("https://other.example")).unwrap().error.code(),
            "allow-origin-mismatch"
        );
        assert_eq!(
            explain(&msg("*.example.com")).unwrap().error.code(),
            "invalid-allow-origin"
        );
    }
}
