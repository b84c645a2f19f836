//! `tls::crypto_provider()`: *ring* while the application has installed no
//! process default, the installed default once it has. A test binary of its
//! own: it installs a process-wide default.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use understudy_adapters::tls::crypto_provider;
use understudy_adapters::TlsTrust;

#[test]
fn the_process_default_is_used_once_installed_else_ring() {
    assert!(
        CryptoProvider::get_default().is_none(),
        "nothing installed yet"
    );
    let ring = crypto_provider();
    assert!(ring.cipher_suites.len() > 1 && !ring.kx_groups.is_empty());
    assert!(
        CryptoProvider::get_default().is_none(),
        "asking must not install a process default behind the application's back"
    );
    // A default the test can tell apart: ring with its first cipher suite only.
    let mut narrowed = (*ring).clone();
    narrowed.cipher_suites.truncate(1);
    narrowed.install_default().expect("the first default");
    let chosen = crypto_provider();
    let installed = CryptoProvider::get_default().expect("installed");
    assert!(
        Arc::ptr_eq(&chosen, installed),
        "the installed default is used"
    );
    assert_eq!(chosen.cipher_suites.len(), 1);
    // Client configurations are built on it.
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a CA");
    let config = TlsTrust::Only(ca.cert.pem())
        .client_config()
        .expect("a client config");
    assert!(Arc::ptr_eq(config.crypto_provider(), installed));
}
