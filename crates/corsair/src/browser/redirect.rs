//! Redirect rules of Fetch §4.4 "HTTP-redirect fetch" and the request's
//! redirect-taint (Fetch §3.1.6 "redirect-taint", "serializing a request
//! origin").

use super::request::origin_of;
use crate::origin::Origin;

/// Fetch §4.4 step 7: a request follows at most 20 redirects.
pub const MAX_REDIRECTS: u32 = 20;

/// Fetch §2.2.6 "redirect status": 301, 302, 303, 307, 308.
pub fn is_redirect_status(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Fetch §2.2.2 "request-body-header name": removed when a redirect turns
/// the request into a GET.
pub const REQUEST_BODY_HEADER_NAMES: [&str; 4] = [
    "content-encoding",
    "content-language",
    "content-location",
    "content-type",
];

/// Fetch §4.4 step 12: 301/302 turn `POST` into `GET`; 303 turns anything
/// but `GET`/`HEAD` into `GET`. Returns the new method when it changes.
pub fn rewritten_method(status: u16, method: &str) -> Option<&'static str> {
    match status {
        301 | 302 if method == "POST" => Some("GET"),
        303 if method != "GET" && method != "HEAD" => Some("GET"),
        _ => None,
    }
}

/// Fetch §3.1.6 "redirect-taint" is not "same-origin": some hop went from
/// one origin to another while the request's origin was neither. Such a
/// request's origin serializes as `null`.
pub fn is_redirect_tainted(origin: &Origin, url_list: &[url::Url]) -> bool {
    url_list.windows(2).any(|w| {
        let last = origin_of(&w[0]);
        let next = origin_of(&w[1]);
        !same_origin(&next, &last) && !same_origin(origin, &last)
    })
}

/// HTML "same origin" for tuple origins; opaque origins are only the same
/// as themselves, which a fresh parse never is.
pub fn same_origin(a: &Origin, b: &Origin) -> bool {
    a.as_ref().is_same_origin(&b.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(v: &[&str]) -> Vec<url::Url> {
        v.iter().map(|u| url::Url::parse(u).expect("url")).collect()
    }

    #[test]
    fn method_rewriting() {
        let cases = [
            (301, "POST", Some("GET")),
            (302, "POST", Some("GET")),
            (301, "PUT", None),
            (302, "GET", None),
            (303, "PUT", Some("GET")),
            (303, "patch", Some("GET")),
            (303, "HEAD", None),
            (303, "GET", None),
            (307, "POST", None),
            (308, "POST", None),
        ];
        for (status, m, want) in cases {
            assert_eq!(rewritten_method(status, m), want, "{status} {m}");
        }
    }

    #[test]
    fn taint() {
        let a = Origin::parse("https://a.example").expect("origin");
        // page A fetches B, B redirects to C: tainted.
        assert!(is_redirect_tainted(
            &a,
            &urls(&["https://b.example/", "https://c.example/"])
        ));
        // B redirects within B: not tainted.
        assert!(!is_redirect_tainted(
            &a,
            &urls(&["https://b.example/", "https://b.example/x"])
        ));
        // A fetches A, which redirects to B: not tainted (the origin is A).
        assert!(!is_redirect_tainted(
            &a,
            &urls(&["https://a.example/", "https://b.example/"])
        ));
        // A → B → A: tainted at the B → A hop.
        assert!(is_redirect_tainted(
            &a,
            &urls(&[
                "https://a.example/",
                "https://b.example/",
                "https://a.example/"
            ])
        ));
        assert!(!is_redirect_tainted(&a, &urls(&["https://b.example/"])));
    }
}
