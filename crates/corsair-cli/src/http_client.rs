//! A small HTTP client that sends exactly the headers it is given.
//!
//! Browsers' CORS requests must be reproduced byte for byte, so this
//! client adds nothing but what the protocol needs (`Host` on HTTP/1.1;
//! HTTP/2 carries the authority in `:authority`). It speaks HTTP/1.1 and,
//! over TLS, HTTP/2 when the server picks it by ALPN, like a browser.
//! TLS is rustls with the `ring` provider and the Mozilla root store
//! (webpki-roots). `--resolve`-style overrides pin a host and port to an
//! address, as curl does. One connection per request: CORS checks care
//! about headers, not throughput.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A `HOST:PORT:ADDR` override, as curl's `--resolve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    /// The host name as it appears in URLs (lowercase).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The address to connect to instead of resolving.
    pub addr: IpAddr,
}

impl std::str::FromStr for Resolve {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "invalid --resolve `{s}`: write HOST:PORT:ADDR, e.g. api.example.com:443:127.0.0.1"
            )
        };
        let (host, rest) = s.split_once(':').ok_or_else(usage)?;
        let (port, addr) = rest.split_once(':').ok_or_else(usage)?;
        let port: u16 = port.parse().map_err(|_| usage())?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let addr: IpAddr = addr.parse().map_err(|_| usage())?;
        if host.is_empty() {
            return Err(usage());
        }
        Ok(Resolve {
            host: host.to_ascii_lowercase(),
            port,
            addr,
        })
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Limit for one whole request (connect, TLS, response head).
    pub timeout: Duration,
    /// Address overrides.
    pub resolve: Vec<Resolve>,
    /// Certificate authorities trusted in addition to the Mozilla root
    /// store (`--cacert`), e.g. a staging or test CA.
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// Accept any server certificate (`--insecure`, as curl's `-k`): the
    /// handshake's signatures are still checked, the chain and the name
    /// are not.
    pub insecure: bool,
}

/// `--insecure`: accepts any certificate chain and name, but still checks
/// that the server holds the key of the certificate it sent.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Reads every certificate of a PEM file, for `--cacert`.
pub fn load_cacert(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// A response head. The body is read and discarded.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: http::HeaderMap,
    /// HTTP version used.
    pub version: http::Version,
}

/// Why a request got no response. These are network failures, never CORS
/// verdicts.
#[derive(Debug)]
pub enum ClientError {
    /// The URL has no host.
    NoHost(String),
    /// DNS resolution failed.
    Dns(String, std::io::Error),
    /// TCP connect failed.
    Connect(SocketAddr, std::io::Error),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String, std::io::Error),
    /// The HTTP exchange failed.
    Http(String),
    /// Nothing within the time limit.
    Timeout(Duration),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::NoHost(u) => write!(f, "the URL {u} has no host"),
            ClientError::Dns(h, e) => write!(f, "could not resolve host {h}: {e} (check the name, or pin it with --resolve HOST:PORT:ADDR)"),
            ClientError::Connect(a, e) => write!(f, "could not connect to {a}: {e} (is the server running and reachable?)"),
            ClientError::Tls(h, e) => write!(f, "TLS handshake with {h} failed: {e}"),
            ClientError::Http(e) => write!(f, "HTTP error: {e}"),
            ClientError::Timeout(d) => write!(f, "no response within {:.1} s (raise --timeout)", d.as_secs_f64()),
        }
    }
}

impl std::error::Error for ClientError {}

/// The client.
#[derive(Clone)]
pub struct HttpClient {
    config: ClientConfig,
    tls: Arc<rustls::ClientConfig>,
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

impl HttpClient {
    /// A client with the Mozilla root store and ALPN `h2`, `http/1.1`.
    pub fn new(config: ClientConfig) -> Self {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // A certificate that is not a valid CA is skipped: the handshake
        // then fails with a clear certificate error.
        let _ = roots.add_parsable_certificates(config.extra_roots.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = match rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
        {
            Ok(b) if config.insecure => b
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth(),
            Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
            // The ring provider supports the default versions; keep a
            // working config if that ever changes.
            Err(_) => rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        };
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        HttpClient {
            config,
            tls: Arc::new(tls),
        }
    }

    /// Sends one request with exactly `headers` (plus `Host` on HTTP/1.1)
    /// and an empty body, and returns the response head.
    pub async fn send(
        &self,
        method: &http::Method,
        url: &url::Url,
        headers: &http::HeaderMap,
    ) -> Result<Response, ClientError> {
        let limit = self.config.timeout;
        match tokio::time::timeout(limit, self.send_inner(method, url, headers)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout(limit)),
        }
    }

    async fn send_inner(
        &self,
        method: &http::Method,
        url: &url::Url,
        headers: &http::HeaderMap,
    ) -> Result<Response, ClientError> {
        let host = url
            .host_str()
            .ok_or_else(|| ClientError::NoHost(url.to_string()))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let addr = self.resolve(bare_host, port).await?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::Connect(addr, e))?;
        let _ = tcp.set_nodelay(true);
        let (stream, h2): (Box<dyn Io>, bool) = if url.scheme() == "https" {
            let name =
                rustls::pki_types::ServerName::try_from(bare_host.to_string()).map_err(|e| {
                    ClientError::Tls(host.to_string(), std::io::Error::other(e.to_string()))
                })?;
            let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
            let tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| ClientError::Tls(host.to_string(), e))?;
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            (Box::new(tls), h2)
        } else {
            (Box::new(tcp), false)
        };
        let io = TokioIo::new(stream);
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let http_err = |e: hyper::Error| ClientError::Http(e.to_string());
        let mut builder = http::Request::builder().method(method.clone());
        let response = if h2 {
            let uri = format!("{}://{authority}{path}", url.scheme());
            builder = builder.uri(uri).version(http::Version::HTTP_2);
            let mut req = builder
                .body(Empty::<Bytes>::new())
                .map_err(|e| ClientError::Http(e.to_string()))?;
            *req.headers_mut() = headers.clone();
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .map_err(http_err)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender.send_request(req).await.map_err(http_err)?
        } else {
            builder = builder.uri(path).version(http::Version::HTTP_11);
            let mut req = builder
                .body(Empty::<Bytes>::new())
                .map_err(|e| ClientError::Http(e.to_string()))?;
            let mut h = http::HeaderMap::new();
            if let Ok(v) = http::HeaderValue::from_str(&authority) {
                h.insert(http::header::HOST, v);
            }
            for (name, value) in headers {
                h.append(name.clone(), value.clone());
            }
            *req.headers_mut() = h;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
                .await
                .map_err(http_err)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            sender.send_request(req).await.map_err(http_err)?
        };
        let (parts, mut body) = response.into_parts();
        // Drain a bounded amount of body so the server is not cut off mid-write.
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                seen += data.len();
            }
            if seen > 1 << 20 {
                break;
            }
        }
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            version: parts.version,
        })
    }

    async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, ClientError> {
        let lower = host.to_ascii_lowercase();
        if let Some(r) = self
            .config
            .resolve
            .iter()
            .find(|r| r.host == lower && r.port == port)
        {
            return Ok(SocketAddr::new(r.addr, port));
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        let mut addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ClientError::Dns(host.to_string(), e))?;
        addrs.next().ok_or_else(|| {
            ClientError::Dns(
                host.to_string(),
                std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_syntax() {
        let r: Resolve = "API.example.com:443:127.0.0.1".parse().expect("valid");
        assert_eq!(r.host, "api.example.com");
        assert_eq!(r.port, 443);
        let r: Resolve = "h:80:[::1]".parse().expect("valid");
        assert_eq!(r.addr, "::1".parse::<IpAddr>().expect("ip"));
        assert!("h:80".parse::<Resolve>().is_err());
        assert!("h:x:1.2.3.4".parse::<Resolve>().is_err());
        assert!(":80:1.2.3.4".parse::<Resolve>().is_err());
    }
}
