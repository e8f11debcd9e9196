//! [`Policy::evaluate`]: classify a request and decide.
//!
//! The allowed-actual-request path allocates nothing: header values are
//! precomputed in the policy or cloned from the request (`HeaderValue`
//! clones share their bytes).

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use super::decision::{
    Allowed, CorsHeaders, Decision, Refusal, RequestKind, Verdict,
    ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
};
use super::header_list::{self, ListItem};
use super::origins::OriginMatch;
use super::{NameRule, Policy};
use crate::names;

impl Policy {
    /// Decides what to answer to a request with this method and headers
    /// (Fetch §3.2, "HTTP extensions": the server side of the CORS protocol).
    pub fn evaluate(&self, method: &Method, headers: &HeaderMap) -> Decision {
        let request = CorsRequestHeaders::find(headers);
        let Some(origin) = request.origin else {
            return Decision {
                kind: RequestKind::NonCors,
                verdict: Verdict::Allowed(Allowed::NotCors),
                status: None,
                headers: CorsHeaders {
                    vary: self.vary_actual.clone(),
                    ..CorsHeaders::default()
                },
            };
        };
        let kind = if method == Method::OPTIONS && request.request_method.is_some() {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        };
        let matched = if request.several_origins {
            Err(Refusal::MultipleOrigins)
        } else {
            self.match_origin(origin)
        };
        match kind {
            RequestKind::Preflight => self.preflight(origin, matched, headers, &request),
            _ => self.actual(origin, matched),
        }
    }

    /// Same as [`Policy::evaluate`] on the parts of an `http::Request`.
    pub fn evaluate_request<B>(&self, request: &http::Request<B>) -> Decision {
        self.evaluate(request.method(), request.headers())
    }

    fn match_origin(&self, origin: &HeaderValue) -> Result<OriginMatch, Refusal> {
        origin
            .to_str()
            .ok()
            .and_then(|o| self.origins.find(o))
            .ok_or_else(|| Refusal::OriginNotAllowed {
                origin: origin.clone(),
            })
    }

    /// The `Access-Control-Allow-Origin` value for an allowed origin: `*`
    /// for an any-origin policy without credentials, else the origin itself
    /// (Fetch §3.2.3: with credentials, `*` is not accepted).
    fn allow_origin_value(&self, origin: &HeaderValue, found: &OriginMatch) -> HeaderValue {
        if *found == OriginMatch::Any && !self.credentials {
            HeaderValue::from_static("*")
        } else {
            origin.clone()
        }
    }

    fn actual(&self, origin: &HeaderValue, found: Result<OriginMatch, Refusal>) -> Decision {
        let vary = self.vary_actual.clone();
        match found {
            Ok(found) => Decision {
                kind: RequestKind::Actual,
                status: None,
                headers: CorsHeaders {
                    allow_origin: Some(self.allow_origin_value(origin, &found)),
                    allow_credentials: self.credentials,
                    expose_headers: self.aceh.clone(),
                    vary,
                    ..CorsHeaders::default()
                },
                verdict: Verdict::Allowed(Allowed::Origin(found)),
            },
            Err(refusal) => Decision {
                kind: RequestKind::Actual,
                status: None,
                headers: CorsHeaders {
                    vary,
                    ..CorsHeaders::default()
                },
                verdict: Verdict::Refused(refusal),
            },
        }
    }

    fn preflight(
        &self,
        origin: &HeaderValue,
        found: Result<OriginMatch, Refusal>,
        headers: &HeaderMap,
        request: &CorsRequestHeaders<'_>,
    ) -> Decision {
        let checked = found.and_then(|found| {
            let method = self.check_method(request)?;
            let allow_headers = self.check_headers(headers, request)?;
            let pna = self.check_private_network(request)?;
            Ok((found, method, allow_headers, pna))
        });
        match checked {
            Ok((found, method, allow_headers, pna)) => Decision {
                kind: RequestKind::Preflight,
                status: Some(self.preflight_status),
                headers: CorsHeaders {
                    allow_origin: Some(self.allow_origin_value(origin, &found)),
                    allow_credentials: self.credentials,
                    allow_methods: method,
                    allow_headers,
                    max_age: self.acma.clone(),
                    allow_private_network: pna,
                    expose_headers: None,
                    vary: Some(self.vary_preflight.clone()),
                },
                verdict: Verdict::Allowed(Allowed::Origin(found)),
            },
            Err(refusal) => Decision {
                kind: RequestKind::Preflight,
                status: Some(StatusCode::FORBIDDEN),
                headers: CorsHeaders {
                    vary: Some(self.vary_preflight.clone()),
                    ..CorsHeaders::default()
                },
                verdict: Verdict::Refused(refusal),
            },
        }
    }

    /// Checks `Access-Control-Request-Method` and returns the
    /// `Access-Control-Allow-Methods` value. Safelisted methods need no
    /// listing (Fetch §4.8 step 7.4 accepts them whatever the server says).
    fn check_method(
        &self,
        request: &CorsRequestHeaders<'_>,
    ) -> Result<Option<HeaderValue>, Refusal> {
        let value = request.request_method.ok_or(Refusal::MalformedMethod)?;
        if request.several_request_methods {
            return Err(Refusal::MalformedMethod);
        }
        let method = value
            .to_str()
            .ok()
            .map(|m| m.trim_matches([' ', '\t']))
            .filter(|m| names::is_token(m))
            .ok_or(Refusal::MalformedMethod)?;
        match &self.methods {
            // Echo the method: `*` is taken literally under credentials (Fetch §3.2.3).
            NameRule::Any => Ok(Some(value.clone())),
            NameRule::List(list) => {
                if names::is_cors_safelisted_method(method) || list.iter().any(|m| **m == *method) {
                    Ok(self.acam.clone())
                } else {
                    Err(Refusal::MethodNotAllowed {
                        method: method.to_string(),
                        case_mismatch: list
                            .iter()
                            .find(|m| m.eq_ignore_ascii_case(method))
                            .map(|m| m.to_string()),
                    })
                }
            }
        }
    }

    /// Checks every name of `Access-Control-Request-Headers` and returns the
    /// `Access-Control-Allow-Headers` value: the configured list, or for
    /// `*` the requested names themselves, which (unlike a literal `*`)
    /// also covers `Authorization` and works with credentials (Fetch §4.8
    /// step 7.6-7.7).
    fn check_headers(
        &self,
        headers: &HeaderMap,
        request: &CorsRequestHeaders<'_>,
    ) -> Result<Option<HeaderValue>, Refusal> {
        if !request.request_headers {
            // No list: nothing to check, and nothing to echo.
            return match &self.headers {
                NameRule::List(_) => Ok(self.acah.clone()),
                NameRule::Any => Ok(None),
            };
        }
        let lines = || headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS);
        // A hostile list (kilobytes of commas or names) is refused before
        // it is read, so a preflight costs the same whatever its size.
        let len: usize = lines().iter().map(|line| line.len()).sum();
        if len > header_list::MAX_LEN {
            return Err(Refusal::MalformedHeaders);
        }
        let mut any = false;
        for item in header_list::names(lines()) {
            let name = match item {
                ListItem::Name(n) => n,
                ListItem::Invalid(_) => return Err(Refusal::MalformedHeaders),
            };
            any = true;
            if let NameRule::List(list) = &self.headers {
                if !list
                    .iter()
                    .any(|allowed| allowed.eq_ignore_ascii_case(name))
                {
                    return Err(Refusal::HeaderNotAllowed {
                        name: name.to_string(),
                    });
                }
            }
        }
        match &self.headers {
            NameRule::List(_) => Ok(self.acah.clone()),
            NameRule::Any if !any => Ok(None),
            NameRule::Any => {
                let mut it = lines().iter();
                match (it.next(), it.next()) {
                    (Some(only), None) => Ok(Some(only.clone())),
                    _ => {
                        let joined: Vec<&str> = header_list::names(lines())
                            .filter_map(|i| match i {
                                ListItem::Name(n) => Some(n),
                                ListItem::Invalid(_) => None,
                            })
                            .collect();
                        HeaderValue::from_str(&joined.join(","))
                            .map(Some)
                            .map_err(|_| Refusal::MalformedHeaders)
                    }
                }
            }
        }
    }

    /// Private Network Access: a preflight with
    /// `Access-Control-Request-Private-Network: true` needs
    /// `allow_private_network` (PNA draft §3.1).
    fn check_private_network(&self, request: &CorsRequestHeaders<'_>) -> Result<bool, Refusal> {
        let requested = request
            .private_network
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        match (requested, self.private_network) {
            (false, _) => Ok(false),
            (true, true) => Ok(true),
            (true, false) => Err(Refusal::PrivateNetworkNotAllowed),
        }
    }
}

/// The request headers the CORS protocol reads (Fetch §3.2.2, §3.2.3), as
/// `HeaderMap::get` and `get_all` would give them. A small map is read in
/// one pass over its entries, comparing names (standard names are small
/// integers), rather than hashing one name per lookup: a preflight looks
/// for five of them.
#[derive(Debug, Default, PartialEq, Eq)]
struct CorsRequestHeaders<'a> {
    /// The first `Origin`.
    origin: Option<&'a HeaderValue>,
    /// More than one `Origin` line.
    several_origins: bool,
    /// The first `Access-Control-Request-Method`.
    request_method: Option<&'a HeaderValue>,
    /// More than one `Access-Control-Request-Method` line.
    several_request_methods: bool,
    /// Whether there is an `Access-Control-Request-Headers` line (its lines
    /// are read from the map when there is).
    request_headers: bool,
    /// The first `Access-Control-Request-Private-Network`.
    private_network: Option<&'a HeaderValue>,
}

impl<'a> CorsRequestHeaders<'a> {
    /// Above this many header lines, hashed lookups are cheaper than a pass.
    const SCAN_LIMIT: usize = 16;

    fn find(headers: &'a HeaderMap) -> Self {
        match headers.len() > Self::SCAN_LIMIT {
            true => Self::look_up(headers),
            false => Self::scan(headers),
        }
    }

    fn scan(headers: &'a HeaderMap) -> Self {
        let mut found = CorsRequestHeaders::default();
        for (name, value) in headers {
            if name == header::ORIGIN {
                found.several_origins |= found.origin.is_some();
                found.origin.get_or_insert(value);
            } else if name == header::ACCESS_CONTROL_REQUEST_METHOD {
                found.several_request_methods |= found.request_method.is_some();
                found.request_method.get_or_insert(value);
            } else if name == header::ACCESS_CONTROL_REQUEST_HEADERS {
                found.request_headers = true;
            } else if name.as_str() == ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK.as_str() {
                found.private_network.get_or_insert(value);
            }
        }
        found
    }

    fn look_up(headers: &'a HeaderMap) -> Self {
        let mut origins = headers.get_all(header::ORIGIN).iter();
        let mut methods = headers
            .get_all(header::ACCESS_CONTROL_REQUEST_METHOD)
            .iter();
        CorsRequestHeaders {
            origin: origins.next(),
            several_origins: origins.next().is_some(),
            request_method: methods.next(),
            several_request_methods: methods.next().is_some(),
            request_headers: headers.contains_key(header::ACCESS_CONTROL_REQUEST_HEADERS),
            private_network: headers.get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Names the reader looks for, a few it does not, in any case.
    fn name() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "origin",
            "Origin",
            "access-control-request-method",
            "Access-Control-Request-Headers",
            "access-control-request-private-network",
            "host",
            "accept",
            "x-custom",
            "access-control-request-other",
        ])
    }

    proptest! {
        /// The one-pass reader finds exactly what the lookups find.
        #[test]
        fn one_pass_and_lookups_agree(
            lines in prop::collection::vec((name(), "[a-z0-9:/.,]{0,12}"), 0..24)
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in &lines {
                headers.append(
                    http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            // Whatever the size, though `find` scans only small maps.
            prop_assert_eq!(
                CorsRequestHeaders::scan(&headers),
                CorsRequestHeaders::look_up(&headers)
            );
        }
    }
}
