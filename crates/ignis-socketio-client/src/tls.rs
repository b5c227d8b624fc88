//! TLS for `wss://` servers: rustls with the ring provider and the Mozilla
//! roots (webpki-roots), plus any private roots the user adds. No OpenSSL.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_tungstenite::Connector;

use crate::{ClientConfig, ClientError};

/// Builds the TLS connector for `config` (validates the extra roots).
pub(crate) fn connector(config: &ClientConfig) -> Result<Connector, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in &config.tls_root_certificates_pem {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| ClientError::Tls(format!("bad PEM root: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ClientError::Tls(format!("unusable root certificate: {e}")))?;
            found = true;
        }
        if !found {
            return Err(ClientError::Tls("no certificate in PEM root".to_owned()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Connector::Rustls(Arc::new(tls)))
}
