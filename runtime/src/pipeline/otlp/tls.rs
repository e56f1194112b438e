//! The TLS files of the settings: read and checked once, when the exporter is built, so a
//! wrong path or a file that is not PEM is reported at start instead of at every export.

use std::path::Path;
use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use super::OtlpError;
use crate::config::OtlpSettings;

/// The PEM files of [`OtlpSettings`], read and validated.
#[derive(Clone, Default)]
pub(super) struct TlsFiles {
    /// The CA certificates to trust instead of the built-in roots (PEM text).
    #[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
    pub(super) ca_pem: Option<Vec<u8>>,
    /// The client certificate chain and key for mutual TLS (PEM text).
    pub(super) identity: Option<Identity>,
    /// The parsed forms, for the HTTP client.
    roots: Option<Vec<Certificate<'static>>>,
    client: Option<ClientCert>,
}

/// A client certificate chain and its private key, as PEM text (for gRPC).
#[derive(Clone)]
#[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
pub(super) struct Identity {
    pub(super) cert_pem: Vec<u8>,
    pub(super) key_pem: Vec<u8>,
}

impl TlsFiles {
    /// Reads the files the settings name. Mutual TLS needs both the certificate and the key.
    pub(super) fn load(settings: &OtlpSettings) -> Result<Self, OtlpError> {
        let mut files = Self::default();
        if let Some(path) = &settings.certificate {
            let pem = read(path, "certificate")?;
            let certs = certificates(&pem, path, "certificate")?;
            files.ca_pem = Some(pem);
            files.roots = Some(certs);
        }
        match (&settings.client_certificate, &settings.client_key) {
            (Some(cert_path), Some(key_path)) => {
                let cert_pem = read(cert_path, "client certificate")?;
                let chain = certificates(&cert_pem, cert_path, "client certificate")?;
                let key_pem = read(key_path, "client key")?;
                let key = private_key(&key_pem, key_path)?;
                files.client = Some(ClientCert::new_with_certs(&chain, key));
                files.identity = Some(Identity { cert_pem, key_pem });
            }
            (Some(_), None) => {
                return Err(OtlpError::IncompleteClientIdentity {
                    given: "client certificate",
                    missing: "client key",
                });
            }
            (None, Some(_)) => {
                return Err(OtlpError::IncompleteClientIdentity {
                    given: "client key",
                    missing: "client certificate",
                });
            }
            (None, None) => {}
        }
        Ok(files)
    }

    /// The HTTP client's TLS configuration: the given CA certificates, or Mozilla's root
    /// certificates (built in, so no system store is needed); the client identity if any.
    pub(super) fn http_config(&self) -> TlsConfig {
        let roots = match &self.roots {
            Some(certs) => RootCerts::Specific(Arc::new(certs.clone())),
            None => RootCerts::WebPki,
        };
        TlsConfig::builder()
            .root_certs(roots)
            .client_cert(self.client.clone())
            .build()
    }
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, OtlpError> {
    std::fs::read(path).map_err(|source| OtlpError::ReadFile {
        what,
        path: path.to_owned(),
        source,
    })
}

fn certificates(
    pem: &[u8],
    path: &Path,
    what: &'static str,
) -> Result<Vec<Certificate<'static>>, OtlpError> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(err) => return Err(invalid(path, what, err.to_string())),
        }
    }
    if certs.is_empty() {
        return Err(invalid(path, what, "no PEM certificate in it".to_owned()));
    }
    Ok(certs)
}

fn private_key(pem: &[u8], path: &Path) -> Result<PrivateKey<'static>, OtlpError> {
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::PrivateKey(key)) => return Ok(key),
            Ok(_) => {}
            // The parser's message never quotes the key material.
            Err(err) => return Err(invalid(path, "client key", err.to_string())),
        }
    }
    Err(invalid(
        path,
        "client key",
        "no PEM private key in it".to_owned(),
    ))
}

fn invalid(path: &Path, what: &'static str, reason: String) -> OtlpError {
    OtlpError::InvalidPem {
        what,
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_file(name: &str, contents: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("traced-otlp-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_missing_file_names_the_setting_and_path() {
        let settings = OtlpSettings {
            certificate: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..OtlpSettings::default()
        };
        let err = TlsFiles::load(&settings).err().unwrap().to_string();
        assert!(err.contains("certificate"), "{err}");
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn a_file_without_certificates_is_rejected() {
        let path = temp_file("not-pem", "hello");
        let settings = OtlpSettings {
            certificate: Some(path.clone()),
            ..OtlpSettings::default()
        };
        let err = TlsFiles::load(&settings).err().unwrap().to_string();
        assert!(err.contains("no PEM certificate"), "{err}");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn mutual_tls_needs_both_files() {
        let settings = OtlpSettings {
            client_key: Some(PathBuf::from("/k.pem")),
            ..OtlpSettings::default()
        };
        let err = TlsFiles::load(&settings).err().unwrap().to_string();
        assert!(err.contains("client certificate"), "{err}");
    }

    #[test]
    fn no_files_is_the_default_trust() {
        let files = TlsFiles::load(&OtlpSettings::default()).unwrap();
        assert!(files.ca_pem.is_none() && files.identity.is_none());
        assert!(matches!(
            files.http_config().root_certs(),
            RootCerts::WebPki
        ));
    }
}
