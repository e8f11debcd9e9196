//! # Migrating from `tower_http::cors::CorsLayer`
//!
//! Replace the layer, keep its place in the stack (outermost, outside
//! authentication). Every option maps to a key of the `[cors]` table (or
//! the [`PolicyBuilder`](corsair::PolicyBuilder) method of the same name),
//! so the policy can move to a config file shared with the CLI and the
//! gateway. The one structural difference: a corsair policy is validated
//! when it is built and returns every problem at once
//! ([`ConfigErrors`](corsair::ConfigErrors)) where tower-http panics on
//! the first bad combination at run time or accepts it silently.
//!
//! | tower-http | corsair | what differs, and why |
//! |---|---|---|
//! | `allow_origin(AllowOrigin::exact(v))` | `allow_origins = ["https://app.example.com"]` | Entries are checked against the browser's serialization (scheme, lowercase host, no default port, no path): `https://app.example.com/` or `https://App.example.com` is a config error, not an origin that silently never matches. |
//! | `allow_origin(AllowOrigin::list([...]))` | `allow_origins = [...]` | One hash lookup whatever the list's length (tower-http scans the list: 31 µs per request at 100,000 origins in the benchmark, corsair's cost does not change). |
//! | `allow_origin(AllowOrigin::predicate(f))` / `async_predicate` | `allow_origins = ["https://*.example.com", "http://localhost:*"]`, `allow_origin_regex = [...]` | Subdomain and port patterns and anchored regexes cover what predicates are mostly written for, and are validated: a pattern over a public suffix (`https://*.github.io`) is refused, a regex with an unescaped dot is reported with an example of what it also lets through. Origins that need a database lookup are out of scope; put the decision in config and swap it with a [`PolicyHandle`](crate::PolicyHandle). |
//! | `allow_origin(AllowOrigin::any())` / `Any` | `allow_origins = ["*"]` | Same answer (`*`), but refused at build time with `allow_credentials = true` (tower-http panics when the layer is applied). |
//! | `allow_origin(AllowOrigin::mirror_request())` | none | Reflecting every origin, with credentials, lets any site read your users' data. List the origins (or patterns) instead; without credentials `*` is the honest equivalent. |
//! | `allow_methods([...])`, `AllowMethods::any()`, `mirror_request()` | `allow_methods = ["GET", "PUT"]` or `["*"]` | The preflight's requested method is *checked*: a method outside the list gets a 403 and a log line saying which method, instead of a 200 the browser then rejects. `*` echoes the requested method, which also works with credentials (a literal `*` does not). Names are case-sensitive, as in browsers: `put` is a config error with a hint. |
//! | `allow_headers([...])`, `AllowHeaders::any()`, `mirror_request()` | `allow_headers = ["authorization", "content-type"]` or `["*"]` | Every requested header is checked (403 naming the header); `*` echoes the requested names, so it covers `Authorization` and works with credentials. Forbidden headers (`cookie`, `host`) are config errors: browsers never let scripts send them. |
//! | `expose_headers([...])`, `ExposeHeaders::any()` | `expose_headers = ["x-request-id"]` or `["*"]` | `*` with credentials is refused (browsers read it as a header named `*`); safelisted headers and `set-cookie` are reported as useless. |
//! | `allow_credentials(true)` | `allow_credentials = true` | Combinations browsers reject (`*` origins, `*` exposed headers) are build errors with an explanation, not panics. |
//! | `max_age(Duration)` | `max_age = 600` | Bounded to 0..=86400 (browsers cap it: Chromium 7200, Firefox 86400, WebKit 600); above 7200 is a warning. |
//! | `allow_private_network(true)` | `allow_private_network = true` | Only a preflight that asks (`Access-Control-Request-Private-Network: true`) gets the header; when disabled such a preflight is refused with its own code. |
//! | `vary([...])` | none (automatic) | `Vary` is computed from the policy (`Origin` unless every origin gets the same answer; the request headers a preflight answer depends on) and *merged* with the application's `Vary`, never overwritten or duplicated, also with two layers stacked. |
//! | `CorsLayer::permissive()` | `allow_origins = ["*"]`, `allow_methods = ["*"]`, `allow_headers = ["*"]`, `expose_headers = ["*"]` | Same effect for a public API without credentials. |
//! | `CorsLayer::very_permissive()` | none | It reflects any origin *with credentials*: every site can act as your logged-in users. Use the permissive set above (no credentials), or list your origins with `allow_credentials = true`. |
//!
//! ## Behaviour that changes without a config change
//!
//! - **What a preflight is.** tower-http answers *every* `OPTIONS` request
//!   itself; corsair only `OPTIONS` with `Origin` and
//!   `Access-Control-Request-Method` (Fetch's definition). Other `OPTIONS`
//!   requests reach the application.
//! - **Refused preflights** get 403 with no `Access-Control-*` header
//!   (tower-http: 200 with every header but `Access-Control-Allow-Origin`).
//!   The browser reports the same failure; logs and monitoring now see it.
//! - **Refused actual requests** still reach the application (CORS is
//!   enforced by the browser, not the server) and get no
//!   `Access-Control-*` header.
//! - **`Access-Control-*` headers set by handlers are replaced** by the
//!   policy's: the policy is the single source of truth.
//! - **Every refusal is logged** (`tracing`, target `corsair`) with a code
//!   and the exact reason; [`CorsLayer::debug_header`](crate::CorsLayer::debug_header)
//!   also tells the client the code.
//! - **Response bodies**: both layers need `ResBody: Default` for the
//!   preflight response, so the same services fit.
//!
//! ## Example
//!
//! ```ignore
//! // Before
//! let cors = tower_http::cors::CorsLayer::new()
//!     .allow_origin(["https://app.example.com".parse()?])
//!     .allow_methods([Method::GET, Method::POST])
//!     .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
//!     .allow_credentials(true)
//!     .max_age(Duration::from_secs(600));
//! // After
//! let cors = corsair_tower::CorsLayer::new(
//!     corsair::Policy::builder()
//!         .allow_origins(["https://app.example.com"])
//!         .allow_methods(["GET", "POST"])
//!         .allow_headers(["content-type", "authorization"])
//!         .allow_credentials(true)
//!         .max_age(600)
//!         .build()?,
//! );
//! ```
