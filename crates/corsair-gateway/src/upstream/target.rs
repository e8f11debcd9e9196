//! A configured upstream, and the only way a request's target is built: the
//! upstream's scheme and authority plus the request's path and query. The
//! request's own scheme and authority (an absolute-form target, the HTTP/2
//! `:authority`) are never used as a destination, so the gateway is not an
//! open proxy.

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Uri};

/// An upstream base URL, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    scheme: Scheme,
    authority: Authority,
    /// The base path without a trailing `/` (`""` for the root).
    base_path: String,
    host_header: HeaderValue,
    display: String,
}

impl Upstream {
    /// Parses `http://host[:port][/base]`; the error says what to write.
    pub fn parse(text: &str) -> Result<Upstream, String> {
        let uri: Uri = text.parse().map_err(|e| {
            format!("`{text}` is not a URL ({e}): write e.g. \"http://127.0.0.1:3000\"")
        })?;
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::HTTP,
            Some("https") => Scheme::HTTPS,
            _ => {
                return Err(format!(
                    "`{text}`: the upstream must start with http:// or https://"
                ))
            }
        };
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| format!("`{text}`: the upstream needs a host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{text}`: credentials in the upstream URL are not supported; remove `user@`"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("`{text}`: the upstream URL cannot have a query"));
        }
        let base_path = uri.path().trim_end_matches('/').to_string();
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|_| format!("`{text}`: the host cannot be sent in a Host header"))?;
        Ok(Upstream {
            scheme,
            authority,
            base_path,
            host_header,
            display: text.trim_end_matches('/').to_string(),
        })
    }

    /// The target of a forwarded request: this upstream plus the request's
    /// path and query (`/` when it has none).
    pub fn target(&self, path_and_query: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(self.path(path_and_query)?)
            .build()
    }

    /// The origin-form target of a forwarded request (for a plain-http
    /// upstream's own connection): the base path plus the request's path
    /// and query.
    pub fn path(&self, path_and_query: Option<&PathAndQuery>) -> Result<PathAndQuery, http::Error> {
        if self.base_path.is_empty() {
            // Cloning a `PathAndQuery` shares its bytes: no copy.
            return Ok(path_and_query
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/")));
        }
        let pq = path_and_query.map(PathAndQuery::as_str).unwrap_or("/");
        Ok(PathAndQuery::try_from(format!("{}{pq}", self.base_path))?)
    }

    /// The authority of a plain-http upstream (`None` for https): the key
    /// of the per-worker HTTP/1.1 pool.
    pub fn plain_authority(&self) -> Option<&Authority> {
        (self.scheme == Scheme::HTTP).then_some(&self.authority)
    }

    /// The upstream's `Host` header value.
    pub fn host_header(&self) -> &HeaderValue {
        &self.host_header
    }

    /// A copy sharing no bytes with `self` (`clone` would share the
    /// reference-counted buffers of the authority and `Host` value).
    pub fn unshared(&self) -> Upstream {
        Upstream::parse(&self.display).unwrap_or_else(|_| self.clone())
    }

    /// The URL as configured, for logs.
    pub fn as_str(&self) -> &str {
        &self.display
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unshared_copy_is_the_same_upstream() {
        for text in [
            "http://127.0.0.1:3000",
            "https://api.internal/v1/",
            "http://[::1]:8080/a",
        ] {
            let up = Upstream::parse(text).unwrap();
            let copy = up.unshared();
            assert_eq!(copy, up);
            // Its own bytes, not the original's.
            assert_ne!(
                copy.host_header().as_bytes().as_ptr(),
                up.host_header().as_bytes().as_ptr()
            );
        }
    }

    #[test]
    fn targets_keep_the_upstream_and_take_only_path_and_query() {
        let up = Upstream::parse("http://127.0.0.1:3000").unwrap();
        let pq: PathAndQuery = "/a/b?x=1".parse().unwrap();
        assert_eq!(
            up.target(Some(&pq)).unwrap(),
            "http://127.0.0.1:3000/a/b?x=1"
        );
        assert_eq!(up.target(None).unwrap(), "http://127.0.0.1:3000/");
        let up = Upstream::parse("https://api.internal/v1/").unwrap();
        assert_eq!(
            up.target(Some(&pq)).unwrap(),
            "https://api.internal/v1/a/b?x=1"
        );
        assert_eq!(up.host_header(), "api.internal");
    }

    #[test]
    fn bad_upstreams_say_what_to_write() {
        assert!(Upstream::parse("127.0.0.1:3000")
            .unwrap_err()
            .contains("http://"));
        assert!(Upstream::parse("ftp://x").unwrap_err().contains("http://"));
        assert!(Upstream::parse("http://u:p@x")
            .unwrap_err()
            .contains("credentials"));
        assert!(Upstream::parse("http://x/?q=1")
            .unwrap_err()
            .contains("query"));
    }
}
