//! `corsair serve` routes and forwards by the normalised path (RFC 3986
//! §6.2.2), and answers 400 to paths the gateway and an upstream could
//! read differently, so no spelling of a path reaches a strict route's
//! upstream under a permissive route's policy.

mod serve_support;

use serve_support::*;

const ADMIN: &str = "https://admin.example.com";
const EVIL: &str = "https://evil.com";

/// A permissive top level (`APP` with credentials), a strict `/admin`
/// route and a `*` `/public` route; `/open` forwards ambiguous paths.
fn routes(upstream: SocketAddr) -> String {
    format!(
        r#"upstream = "http://{upstream}"
[cors]
allow_origins = ["{APP}"]
allow_credentials = true
[[routes]]
path_prefix = "/admin"
[routes.cors]
allow_origins = ["{ADMIN}"]
allow_credentials = true
[[routes]]
path_prefix = "/public"
[routes.cors]
allow_origins = ["*"]
[[routes]]
path_prefix = "/open"
allow_ambiguous_paths = true
[routes.cors]
allow_origins = ["*"]
"#
    )
}

/// Sends `GET path` from `origin` over a raw connection (the path exactly
/// as written, which no HTTP client library would promise).
fn get_raw(gw: &Gateway, path: &str, origin: &str) -> String {
    raw(
        gw.port,
        format!("GET {path} HTTP/1.1\r\nHost: api.example.com\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
}

fn status(reply: &str) -> &str {
    reply.get(9..12).unwrap_or("")
}

fn header<'a>(reply: &'a str, name: &str) -> Option<&'a str> {
    reply.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_spellings_of_a_strict_route_get_its_policy_and_path() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&routes(up.addr));
    let gw = Gateway::with_config(&file);
    for path in [
        "//admin/users",
        "/%61dmin/users",
        "/x/../admin/users",
        "/admin/./users",
        "/admin//users",
        "/%2e/admin/users",
    ] {
        let gw = &gw;
        let reply = tokio::task::block_in_place(|| get_raw(gw, path, APP));
        assert_eq!(status(&reply), "200", "{path}: {reply}");
        // The strict route's policy: the top level's origin is not allowed.
        assert_eq!(
            header(&reply, "access-control-allow-origin"),
            None,
            "{path}: {reply}"
        );
        let reply = tokio::task::block_in_place(|| get_raw(gw, path, ADMIN));
        assert_eq!(
            header(&reply, "access-control-allow-origin"),
            Some(ADMIN),
            "{path}: {reply}"
        );
    }
    // The upstream saw the path the gateway routed, never the raw one.
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 12, "{seen:?}");
    assert!(seen.iter().all(|s| s == "GET /admin/users"), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_paths_get_400_with_the_routes_cors_headers_and_never_go_upstream() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&routes(up.addr));
    let gw = Gateway::with_config(&file);
    for (path, reason) in [
        ("/public/..%2fadmin/users", "encoded-slash"),
        ("/public/..;/admin/users", "path-parameter"),
        ("/public/..%5cadmin/users", "encoded-backslash"),
        ("/../admin/users", "above-root"),
        ("/public/%zz", "bad-percent"),
        ("/public/a%00b", "encoded-control"),
    ] {
        let gw = &gw;
        let reply = tokio::task::block_in_place(|| get_raw(gw, path, EVIL));
        assert_eq!(status(&reply), "400", "{path}: {reply}");
        assert!(reply.contains(reason), "{path}: {reply}");
    }
    // The `*` route's headers on its 400, so the page can read why.
    let reply = tokio::task::block_in_place(|| get_raw(&gw, "/public/..%2fadmin/users", EVIL));
    assert_eq!(header(&reply, "access-control-allow-origin"), Some("*"));
    assert!(up.seen.lock().unwrap().is_empty());
    // A preflight to such a path is answered by the policy as usual (and
    // never forwarded); the request after it gets the 400.
    let pre = tokio::task::block_in_place(|| {
        raw(
            gw.port,
            format!(
                "OPTIONS /public/..%2fadmin HTTP/1.1\r\nHost: a\r\nOrigin: {EVIL}\r\n\
                 Access-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
    });
    assert!(matches!(status(&pre), "204" | "403"), "{pre}");
    assert!(up.seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_opts_out_forwards_ambiguous_paths_normalised() {
    let up = start_upstream("api").await;
    let file = ConfigFile::new(&routes(up.addr));
    let gw = Gateway::with_config(&file);
    let reply = tokio::task::block_in_place(|| get_raw(&gw, "//open/a/./b%2fc;v=1?q=%2f", EVIL));
    assert_eq!(status(&reply), "200", "{reply}");
    assert_eq!(header(&reply, "access-control-allow-origin"), Some("*"));
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen, ["GET /open/a/b%2Fc;v=1?q=%2f"]);
}
