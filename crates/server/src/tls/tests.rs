use super::*;
use rcgen::{CertificateParams, KeyPair};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "tessera-tls-{}-{name}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate for `name`: its PEM, its key's PEM, and its DER.
fn pair(name: &str) -> (String, String, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

fn files(dir: &Dir, cert: &str, key: &str) -> TlsFiles {
    TlsFiles {
        cert: dir.write("cert.pem", cert),
        key: dir.write("key.pem", key),
    }
}

fn leaf(resolver: &CertResolver) -> Vec<u8> {
    resolver.current().cert[0].to_vec()
}

#[test]
fn a_matching_pair_loads() {
    let dir = Dir::new("good");
    let (cert, key, der) = pair("a.test");
    let loaded = load(&files(&dir, &cert, &key)).unwrap();
    assert_eq!(loaded.cert[0].as_ref(), der.as_slice());
}

#[test]
fn each_misconfiguration_names_its_file_and_fault() {
    let dir = Dir::new("bad");
    let (cert, key, _) = pair("a.test");
    let (_, other_key, _) = pair("b.test");

    let missing = TlsFiles {
        cert: dir.0.join("absent.pem"),
        key: dir.write("key.pem", &key),
    };
    let e = load(&missing).unwrap_err();
    assert!(matches!(e, TlsError::Read { .. }), "{e}");
    assert!(e.to_string().contains("absent.pem"), "{e}");

    let e = load(&files(&dir, "just some text\n", &key)).unwrap_err();
    assert!(matches!(e, TlsError::NoCertificate { .. }), "{e}");

    let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let e = load(&files(&dir, broken, &key)).unwrap_err();
    assert!(matches!(e, TlsError::NotPem { .. }), "{e}");

    // The certificate where the key should be.
    let e = load(&files(&dir, &cert, &cert)).unwrap_err();
    assert!(matches!(e, TlsError::NoKey { .. }), "{e}");
    assert!(e.to_string().contains("key.pem"), "{e}");

    let e = load(&files(&dir, &cert, &other_key)).unwrap_err();
    assert!(matches!(e, TlsError::Mismatch { .. }), "{e}");
    assert!(e.to_string().contains("does not belong"), "{e}");
}

#[test]
fn a_reload_swaps_a_good_pair_in_and_keeps_the_old_one_on_a_bad_one() {
    let dir = Dir::new("reload");
    let (cert_a, key_a, der_a) = pair("a.test");
    let resolver = CertResolver::load(files(&dir, &cert_a, &key_a)).unwrap();
    assert_eq!(leaf(&resolver), der_a);

    // A renewal caught half-way: the new certificate, the old key.
    let (cert_b, key_b, der_b) = pair("b.test");
    dir.write("cert.pem", &cert_b);
    assert!(matches!(
        resolver.reload().unwrap_err(),
        TlsError::Mismatch { .. }
    ));
    assert_eq!(leaf(&resolver), der_a, "the old certificate stays in force");

    dir.write("key.pem", &key_b);
    resolver.reload().unwrap();
    assert_eq!(leaf(&resolver), der_b);
}

#[test]
fn alpn_offers_http2_first() {
    let dir = Dir::new("alpn");
    let (cert, key, _) = pair("a.test");
    let resolver = CertResolver::load(files(&dir, &cert, &key)).unwrap();
    let config = server_config(resolver).unwrap();
    assert_eq!(
        config.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
}
