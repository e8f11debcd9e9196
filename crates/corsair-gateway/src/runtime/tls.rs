//! TLS on the listening side: rustls with the `ring` provider, HTTP/2 and
//! HTTP/1.1 offered through ALPN.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::file::TlsFile;

/// Loads the PEM files and builds the acceptor; the error says which file
/// is wrong and how.
pub fn acceptor(files: &TlsFile) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| {
            format!(
                "tls.cert `{}`: cannot read a PEM certificate chain ({e})",
                files.cert.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "tls.cert `{}`: no CERTIFICATE block found: give a PEM certificate chain, leaf first",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        format!(
            "tls.key `{}`: cannot read a PEM private key ({e}): give a PKCS#8, PKCS#1 or SEC1 key",
            files.key.display()
        )
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("cannot set up TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("tls: the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
