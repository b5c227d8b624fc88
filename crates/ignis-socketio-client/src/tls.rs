//! TLS for `wss://` servers: rustls with the ring provider and the Mozilla
//! roots (webpki-roots), plus any private roots the user adds. No OpenSSL.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::ClientConfig;
use crate::error::{TlsError, TransportError};

/// Builds the TLS connector for `config` (validates the extra roots).
pub(crate) fn connector(config: &ClientConfig) -> Result<TlsConnector, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in &config.tls_root_certificates_pem {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| TlsError::Pem(Arc::new(e)))?;
            roots.add(cert).map_err(TlsError::Rustls)?;
            found = true;
        }
        if !found {
            return Err(TlsError::NoCertificate);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(tls)))
}

/// Runs the TLS handshake for `host` over `tcp`.
pub(crate) async fn wrap(
    connector: &TlsConnector,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, TransportError> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| TransportError::ServerName(host.to_owned()))?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| TransportError::Tls(Arc::new(e)))
}
