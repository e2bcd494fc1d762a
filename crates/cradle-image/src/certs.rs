//! The image's CA bundle (`/etc/ssl/certs/ca-certificates.crt`): Mozilla's
//! root certificates as the `webpki-root-certs` crate ships them, in PEM.
//! Taken from a crate rather than from the building machine so that every
//! machine writes the same bundle, and the layer holding it is the same for
//! every image the same cradle builds.

use base64::Engine;

/// Where programs (and `SSL_CERT_FILE`) find the bundle.
pub const CA_BUNDLE_PATH: &str = "etc/ssl/certs/ca-certificates.crt";

/// The bundle: one `CERTIFICATE` block per root, lines of 64 characters.
pub fn ca_bundle() -> Vec<u8> {
    let mut pem = String::new();
    for certificate in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let encoded = base64::engine::general_purpose::STANDARD.encode(certificate.as_ref());
        for line in encoded.as_bytes().chunks(64) {
            // Base64 is ASCII.
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_every_root_as_pem() {
        let bundle = String::from_utf8(ca_bundle()).unwrap();
        let count = bundle.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(count, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(count > 100, "{count} roots");
        assert!(
            bundle
                .lines()
                .all(|line| line.len() <= 64 || line.starts_with("-----"))
        );
        let first = bundle
            .lines()
            .skip(1)
            .take_while(|line| !line.starts_with("-----"))
            .collect::<String>();
        let der = base64::engine::general_purpose::STANDARD
            .decode(first)
            .unwrap();
        assert_eq!(der, webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].as_ref());
    }
}
