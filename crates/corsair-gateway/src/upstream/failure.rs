//! Requests the gateway answers itself because forwarding failed or is not
//! allowed: a status and a short JSON body saying what failed. These
//! responses are made inside the service the CORS layer wraps, so they get
//! the CORS headers the policy grants and the page's script can read them.

use http::{header, HeaderValue, Response, StatusCode};

use crate::http::body::GatewayBody;

/// Why the gateway answered instead of the upstream: the upstream failed
/// (502, 504), or the client did (413, 400, 408).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The upstream refused the connection or could not be reached.
    Connect,
    /// No response headers within `timeouts.upstream`.
    Timeout,
    /// The connection broke or the upstream sent something that is not HTTP.
    Broken,
    /// The request body is larger than `max_body_bytes`.
    BodyTooLarge,
    /// The client's request body is not valid HTTP (a malformed chunk).
    ClientBodyBroken,
    /// The client sent no body data for `timeouts.body`.
    ClientBodyTimeout,
    /// `CONNECT`: this gateway is not a forward proxy.
    NotAProxy,
}

impl Failure {
    /// A stable code for logs, metrics and the body.
    pub fn code(self) -> &'static str {
        match self {
            Failure::Connect => "upstream-unreachable",
            Failure::Timeout => "upstream-timeout",
            Failure::Broken => "upstream-broken",
            Failure::BodyTooLarge => "body-too-large",
            Failure::ClientBodyBroken => "client-body-broken",
            Failure::ClientBodyTimeout => "client-body-timeout",
            Failure::NotAProxy => "not-a-proxy",
        }
    }

    /// The status answered.
    pub fn status(self) -> StatusCode {
        match self {
            Failure::Connect | Failure::Broken => StatusCode::BAD_GATEWAY,
            Failure::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Failure::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::ClientBodyBroken => StatusCode::BAD_REQUEST,
            Failure::ClientBodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Failure::NotAProxy => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Failure::Connect => "the gateway could not connect to the upstream server",
            Failure::Timeout => "the upstream server did not answer in time",
            Failure::Broken => {
                "the upstream server closed the connection or sent an invalid response"
            }
            Failure::BodyTooLarge => "the request body is larger than this gateway accepts",
            Failure::ClientBodyBroken => {
                "the request body is malformed (a bad chunk, or cut short)"
            }
            Failure::ClientBodyTimeout => {
                "the request body stopped arriving: send it without long pauses"
            }
            Failure::NotAProxy => {
                "this gateway forwards to its configured upstream only; CONNECT is not supported"
            }
        }
    }

    /// The response: the status and `{"error": CODE, "message": TEXT}`.
    pub fn response(self) -> Response<GatewayBody> {
        let body = format!(
            "{{\"error\":\"{}\",\"message\":\"{}\"}}\n",
            self.code(),
            self.message()
        );
        let mut response = Response::new(GatewayBody::full(body));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self == Failure::NotAProxy {
            headers.insert(
                header::ALLOW,
                HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
            );
        }
        response
    }
}
