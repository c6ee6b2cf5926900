//! Certificates for TLS servers and clients, made with `rcgen` once per run.
//!
//! One certificate authority signs a server certificate (SANs `127.0.0.1`,
//! `::1`, `localhost`; usable by a server and, for replication and the cluster
//! bus, by the server as a client) and client certificates, one per common
//! name, made when first asked for. For negative cases there is a second,
//! untrusted authority with a client certificate of its own, and an expired
//! server certificate. Keys are ECDSA P-256: making all of it takes a few
//! milliseconds, once per process.
//!
//! Nothing is written here: a TLS server gets its own copies in its private
//! directory ([`write_server_files`]: a 0700 `tls/` folder, 0600 files), so
//! they go with the server's directory and no shared file outlives the run.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::error::{Error, Result};

/// The common name of the client certificate the harness and clients present
/// unless told otherwise.
pub const DEFAULT_CLIENT_NAME: &str = "valkey-bdd";

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Pem {
    /// The certificate.
    pub cert: String,
    /// Its private key (PKCS#8).
    pub key: String,
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pem { .. }")
    }
}

/// Which certificate a client presents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// None at all.
    Anonymous,
    /// One signed by the run's authority, with this common name.
    Client(String),
    /// One signed by the second, untrusted authority.
    Untrusted,
}

impl Default for Identity {
    fn default() -> Self {
        Identity::Client(DEFAULT_CLIENT_NAME.to_string())
    }
}

/// Everything made for the run.
pub struct Material {
    /// The authority servers and clients trust.
    pub ca: String,
    /// The servers' certificate.
    pub server: Pem,
    /// A server certificate of the same authority that expired in 2020.
    pub expired_server: Pem,
    /// A second authority nobody trusts.
    pub untrusted_ca: String,
    /// A client certificate of the untrusted authority.
    pub untrusted_client: Pem,
    issuer: Issuer<'static, KeyPair>,
    clients: Mutex<HashMap<String, Arc<Pem>>>,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Material { .. }")
    }
}

static GENERATIONS: AtomicUsize = AtomicUsize::new(0);

/// The run's certificates, made on first use.
pub fn material() -> Result<&'static Material> {
    static MATERIAL: OnceLock<std::result::Result<Material, String>> = OnceLock::new();
    MATERIAL
        .get_or_init(|| {
            let started = Instant::now();
            let made = generate().map_err(|e| e.to_string());
            GENERATIONS.fetch_add(1, Ordering::SeqCst);
            if made.is_ok() {
                tracing::info!(
                    elapsed = ?started.elapsed(),
                    "made the run's TLS certificates (authority, server, clients)"
                );
            }
            made
        })
        .as_ref()
        .map_err(|e| Error::Config {
            what: format!("could not make the TLS certificates: {e}"),
            hint: "this is a bug of valkey-bdd; please report it with this message".into(),
        })
}

/// How many times this process has made the certificate authority and
/// server certificates: 1 once any TLS server ran, never more.
pub fn generations() -> usize {
    GENERATIONS.load(Ordering::SeqCst)
}

impl Material {
    /// A client certificate with this common name, signed by the trusted
    /// authority (made once per name).
    pub fn client(&self, name: &str) -> Result<Arc<Pem>> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pem) = clients.get(name) {
            return Ok(pem.clone());
        }
        let pem = Arc::new(
            leaf(name, &[], Use::Client, &self.issuer, false).map_err(|e| Error::Config {
                what: format!("could not make a client certificate for {name:?}: {e}"),
                hint: "a common name is a short printable string".into(),
            })?,
        );
        clients.insert(name.to_string(), pem.clone());
        Ok(pem)
    }

    /// What a client presents and trusts, for the `redis` crate.
    pub fn certificates(&self, identity: &Identity) -> Result<redis::TlsCertificates> {
        let client_tls = match identity {
            Identity::Anonymous => None,
            Identity::Client(name) => {
                let pem = self.client(name)?;
                Some(redis::ClientTlsConfig {
                    client_cert: pem.cert.clone().into_bytes(),
                    client_key: pem.key.clone().into_bytes(),
                })
            }
            Identity::Untrusted => Some(redis::ClientTlsConfig {
                client_cert: self.untrusted_client.cert.clone().into_bytes(),
                client_key: self.untrusted_client.key.clone().into_bytes(),
            }),
        };
        Ok(redis::TlsCertificates {
            client_tls,
            root_cert: Some(self.ca.clone().into_bytes()),
        })
    }
}

/// What a leaf certificate is for.
#[derive(Clone, Copy)]
enum Use {
    /// A server that is also a client (replication, cluster bus).
    Server,
    /// A client only.
    Client,
}

fn generate() -> std::result::Result<Material, rcgen::Error> {
    // rustls picks its crypto from the process default; make it ring, which
    // rcgen uses too, whatever else the process links.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let issuer = authority("valkey-bdd test CA")?;
    let untrusted = authority("valkey-bdd untrusted CA")?;
    let names = ["127.0.0.1", "::1", "localhost"];
    Ok(Material {
        ca: issuer.0,
        server: leaf("valkey-bdd server", &names, Use::Server, &issuer.1, false)?,
        expired_server: leaf(
            "valkey-bdd expired server",
            &names,
            Use::Server,
            &issuer.1,
            true,
        )?,
        untrusted_ca: untrusted.0,
        untrusted_client: leaf(DEFAULT_CLIENT_NAME, &[], Use::Client, &untrusted.1, false)?,
        issuer: issuer.1,
        clients: Mutex::default(),
    })
}

fn authority(name: &str) -> std::result::Result<(String, Issuer<'static, KeyPair>), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

fn leaf(
    common_name: &str,
    names: &[&str],
    usage: Use,
    issuer: &Issuer<'static, KeyPair>,
    expired: bool,
) -> std::result::Result<Pem, rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = match usage {
        Use::Server => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
        Use::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
    };
    if expired {
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    }
    let cert = params.signed_by(&key, issuer)?;
    Ok(Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// How a server speaks TLS: its TLS port is its only port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerTls {
    /// `tls-auth-clients`: whether clients must present a certificate.
    pub auth_clients: AuthClients,
    /// `tls-replication yes`: replicas connect to their primary over TLS
    /// (required when the plaintext port is off, which it is).
    pub replication: bool,
    /// `tls-cluster yes`: the cluster bus speaks TLS.
    pub cluster: bool,
    /// Serve a certificate that expired in 2020, for clients to refuse.
    pub expired_certificate: bool,
}

impl ServerTls {
    /// TLS without client certificates.
    pub fn new() -> Self {
        ServerTls::default()
    }

    /// Sets `tls-auth-clients`.
    pub fn auth_clients(mut self, mode: AuthClients) -> Self {
        self.auth_clients = mode;
        self
    }

    /// The directives, given the port and the certificate files.
    pub fn directives(&self, port: u16, files: &ServerFiles) -> Vec<(&'static str, String)> {
        let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
        vec![
            ("port", "0".into()),
            ("tls-port", port.to_string()),
            ("tls-cert-file", files.cert.display().to_string()),
            ("tls-key-file", files.key.display().to_string()),
            ("tls-ca-cert-file", files.ca.display().to_string()),
            ("tls-auth-clients", self.auth_clients.word().into()),
            ("tls-replication", yes(self.replication)),
            ("tls-cluster", yes(self.cluster)),
        ]
    }
}

/// `tls-auth-clients`: whether a TLS server asks clients for a certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthClients {
    /// `no`: it does not ask.
    #[default]
    No,
    /// `yes`: a client without a trusted certificate is refused.
    Yes,
    /// `optional`: a certificate, if presented, must be trusted.
    Optional,
}

impl AuthClients {
    /// The directive's value.
    pub fn word(self) -> &'static str {
        match self {
            AuthClients::No => "no",
            AuthClients::Yes => "yes",
            AuthClients::Optional => "optional",
        }
    }
}

/// The files a TLS server reads, in its directory.
#[derive(Debug, Clone)]
pub struct ServerFiles {
    /// The authority's certificate (`tls-ca-cert-file`).
    pub ca: PathBuf,
    /// The server's certificate (`tls-cert-file`).
    pub cert: PathBuf,
    /// Its key (`tls-key-file`).
    pub key: PathBuf,
}

/// Writes the authority, the server certificate (the expired one when asked)
/// and its key into `<dir>/tls/`: the folder 0700, every file 0600.
pub fn write_server_files(dir: &Path, expired: bool) -> Result<ServerFiles> {
    let m = material()?;
    let folder = dir.join("tls");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(&folder)
        .map_err(|e| Error::io(format!("creating {}", folder.display()), e))?;
    let server = if expired {
        &m.expired_server
    } else {
        &m.server
    };
    let files = ServerFiles {
        ca: folder.join("ca.crt"),
        cert: folder.join("server.crt"),
        key: folder.join("server.key"),
    };
    for (path, text) in [
        (&files.ca, &m.ca),
        (&files.cert, &server.cert),
        (&files.key, &server.key),
    ] {
        write_private(path, text)?;
    }
    Ok(files)
}

/// Writes a file only its owner can read (0600), replacing any old one.
fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_made_once_and_client_names_are_cached() {
        let a = material().unwrap() as *const Material;
        let b = material().unwrap() as *const Material;
        assert_eq!(a, b);
        assert_eq!(generations(), 1);
        let m = material().unwrap();
        assert!(m.ca.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(m.server.key.contains("PRIVATE KEY"));
        let x = m.client("alice").unwrap();
        let y = m.client("alice").unwrap();
        assert!(Arc::ptr_eq(&x, &y));
        assert_ne!(m.client("bob").unwrap().cert, x.cert);
    }
}
