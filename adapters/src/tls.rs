//! Which certificate authorities a `wss://` (or `https://`) connection trusts.
//!
//! The real providers are TLS endpoints signed by public CAs, so the default is
//! the operating system's roots (which also honour `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`, the same variables the Python SDKs read). A mock served over
//! TLS (`understudy serve --tls-port`) is signed by a CA generated at start; a
//! client trusts it by adding that CA's PEM, without touching the environment.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};

/// The crypto provider of every TLS configuration Understudy builds (its
/// clients here, the mock's TLS listener): the process default when the
/// application installed one (`CryptoProvider::install_default`, e.g.
/// aws-lc-rs for post-quantum key exchange), else *ring*, the one provider
/// this crate's rustls features enable.
///
/// This is the order rustls' own `ClientConfig::builder()` follows. Since
/// 0.23.48 `rustls::crypto::ring::default_provider` is deprecated (*ring* has
/// no post-quantum key exchange) with no *ring* replacement, and the way to
/// choose another provider is to install it as the process default, which
/// this honours. Only the fallback names *ring*.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    match CryptoProvider::get_default() {
        Some(installed) => Arc::clone(installed),
        None => Arc::new(ring_provider()),
    }
}

/// rustls' *ring* provider (cipher suites, key exchange groups, signature
/// algorithms, randomness and key loading), for when no process default is
/// installed. Deprecated in rustls 0.23.48 only for lacking post-quantum key
/// exchange; mock and test traffic does not need it, and an application that
/// wants it installs aws-lc-rs as the process default ([`crypto_provider`]).
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The trust anchors for TLS connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsTrust {
    /// The system's roots (plus `SSL_CERT_FILE` / `SSL_CERT_DIR` when set).
    #[default]
    System,
    /// The system's roots and the certificates in this PEM text.
    SystemAnd(String),
    /// Only the certificates in this PEM text (a test that must not reach a
    /// real provider by accident).
    Only(String),
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The PEM text held no usable certificate.
    #[error("no certificate could be read from the PEM given ({0})")]
    Pem(String),
    /// A certificate was read but rustls would not accept it as a root.
    #[error("certificate rejected as a trust anchor: {0}")]
    Anchor(String),
    /// No trust anchors at all: the system has none and none were given.
    #[error("no trusted certificate authorities (the system store is empty and none were given)")]
    NoRoots,
}

impl TlsTrust {
    /// A rustls client configuration trusting these anchors, on
    /// [`crypto_provider`].
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        if matches!(self, TlsTrust::System | TlsTrust::SystemAnd(_)) {
            roots.extend(system_roots().roots.iter().cloned());
        }
        if let TlsTrust::SystemAnd(pem) | TlsTrust::Only(pem) = self {
            for cert in parse_pem(pem)? {
                roots
                    .add(cert)
                    .map_err(|e| TlsError::Anchor(e.to_string()))?;
            }
        }
        if roots.is_empty() {
            return Err(TlsError::NoRoots);
        }
        let config = ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Anchor(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// Certificates in a PEM text (other PEM sections are skipped).
fn parse_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem("no CERTIFICATE section".into()));
    }
    Ok(certs)
}

/// The system's roots, loaded once per process (loading reads many files).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::warn!(%error, "could not read some system root certificates");
        }
        let mut store = RootCertStore::empty();
        let (added, ignored) = store.add_parsable_certificates(loaded.certs);
        tracing::debug!(added, ignored, "loaded system root certificates");
        store
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_certificates_is_a_clear_error() {
        let error = TlsTrust::Only("not pem at all".into())
            .client_config()
            .unwrap_err();
        assert!(matches!(error, TlsError::Pem(_)), "{error}");
    }

    #[test]
    fn a_generated_ca_is_accepted_as_the_only_root() {
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let config = TlsTrust::Only(ca.cert.pem()).client_config();
        assert!(config.is_ok(), "{:?}", config.err());
    }
}
