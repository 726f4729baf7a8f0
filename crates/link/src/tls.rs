//! TLS client configuration shared by the MQTT and HTTP transports: rustls with the ring
//! provider, trust from a CA file, optionally a client certificate for mutual TLS.
//!
//! Certificates and keys are PEM files, read with rustls-pki-types' PEM support. Every error
//! names the file and what was wrong with it, since a misplaced certificate is the most common
//! way a deployment fails.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// Where the TLS material comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate(s) that sign the server's certificate (PEM). Without it, nothing is
    /// trusted: edgewise does not read the system's store implicitly.
    pub ca_file: Option<PathBuf>,
    /// The client's certificate chain (PEM), for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// The client's private key (PEM: PKCS#8, PKCS#1 or SEC1), for mutual TLS.
    pub client_key: Option<PathBuf>,
}

/// TLS material that cannot be used, with the file it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS: {path}: {problem}")]
pub struct TlsError {
    /// The file (or setting) at fault.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

impl TlsFiles {
    /// The rustls client configuration for these files.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(TlsError {
                path: "client_cert/client_key".into(),
                problem: "mutual TLS needs both a client certificate and its key".into(),
            });
        }
        let ca_file = self.ca_file.as_deref().ok_or_else(|| TlsError {
            path: "ca_file".into(),
            problem: "TLS needs a CA file that signs the server's certificate".into(),
        })?;
        let mut roots = RootCertStore::empty();
        for cert in read_certificates(ca_file)? {
            roots.add(cert).map_err(|e| TlsError {
                path: ca_file.display().to_string(),
                problem: format!("not a usable CA certificate: {e}"),
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError {
                path: "rustls".into(),
                problem: e.to_string(),
            })?
            .with_root_certificates(roots);
        let config = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                let chain = read_certificates(cert)?;
                let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError {
                    path: key.display().to_string(),
                    problem: format!("no private key could be read: {e}"),
                })?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| TlsError {
                        path: format!("{} + {}", cert.display(), key.display()),
                        problem: format!("the client certificate and key do not fit: {e}"),
                    })?
            }
            // Checked above.
            _ => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// Every certificate in a PEM file; an empty file is an error.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |problem: String| TlsError {
        path: path.display().to_string(),
        problem,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(format!("cannot read: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(error("contains no PEM certificate".into()));
    }
    Ok(certs)
}

/// A plain explanation of a TLS handshake failure, found inside an I/O error from a TLS
/// stream (rustls reports through `std::io::Error`). `None` when it is not a TLS error.
pub fn explain_handshake_error(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(explain(tls));
        }
        // `io::Error::source` skips the error it wraps (it returns that error's source), and
        // tokio-rustls wraps the rustls error in an `io::Error`: look inside explicitly.
        source = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

fn explain(error: &rustls::Error) -> String {
    use rustls::{CertificateError, Error};
    match error {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not signed by the configured CA (wrong ca_file?)".into()
        }
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "the server's certificate has expired".into()
        }
        Error::InvalidCertificate(CertificateError::NotValidForName)
        | Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "the server's certificate does not name this host (its subjectAltName must match)"
                .into()
        }
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } => {
            "the peer did not answer with TLS (a plaintext port?)".into()
        }
        Error::AlertReceived(alert) => {
            format!("the server refused the handshake ({alert:?}); a client certificate it does not trust?")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_named_in_the_error() {
        let files = TlsFiles {
            ca_file: Some("/nonexistent/ca.crt".into()),
            ..TlsFiles::default()
        };
        let error = files
            .client_config()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("/nonexistent/ca.crt"), "{error}");
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let path =
            std::env::temp_dir().join(format!("edgewise-tls-empty-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").ok();
        let files = TlsFiles {
            ca_file: Some(path.clone()),
            ..TlsFiles::default()
        };
        let error = files
            .client_config()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        std::fs::remove_file(&path).ok();
        assert!(error.contains("no PEM certificate"), "{error}");
    }

    #[test]
    fn a_rustls_error_inside_an_io_error_is_explained() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let explained = explain_handshake_error(&io).unwrap_or_default();
        assert!(
            explained.contains("not signed by the configured CA"),
            "{explained}"
        );
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(explain_handshake_error(&plain), None);
    }

    #[test]
    fn a_certificate_without_its_key_is_refused() {
        let files = TlsFiles {
            ca_file: Some("ca.crt".into()),
            client_cert: Some("client.crt".into()),
            client_key: None,
        };
        let error = files
            .client_config()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("both a client certificate and its key"),
            "{error}"
        );
    }
}
