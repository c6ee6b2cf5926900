//! Who may run commands on the servers of a run: the run's password, and
//! the user the harness keeps for itself while a scenario locks the default
//! user out (the server sets ACL users: [`crate::server::Server::set_users`]).
//!
//! Secure by default: every server the harness starts guards its `default`
//! user with one password made for the run ([`run_password`]: 256 bits from
//! the operating system's generator). The harness, named clients and the
//! user's programs (through `VALKEY_URL` and `REDISCLI_AUTH`) use it; another
//! local user, who cannot read it, gets `NOAUTH`, so cannot load a module into
//! a server that runs as someone else. The password is written only as a
//! SHA-256 hash (the `user default` line) and as `masterauth` (replicas
//! authenticate to their primary) in the server's private configuration file,
//! and never printed: [`redact`] hides it wherever text is shown.

use std::borrow::Cow;
use std::sync::OnceLock;

/// The user the harness creates for its own connections when a scenario
/// disables the default user.
pub const HARNESS_USER: &str = "valkey-bdd";

/// What [`redact`] shows instead of the run's password.
pub const REDACTED: &str = "<the run's password>";

/// The run's password: 32 bytes from the operating system's random number
/// generator, in hex; the same for every server of this process.
pub fn run_password() -> &'static str {
    PASSWORD.get_or_init(|| {
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; 32];
        // The operating system's generator fails only when it is missing,
        // and then nothing here can be secure: stop rather than guess.
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .expect("the operating system's random number generator (getrandom) failed");
        hex(&bytes)
    })
}

/// The ACL rule that sets the run's password without writing it: `#` and
/// its SHA-256 in hex, as `ACL SETUSER` and a `user` directive take it.
pub fn run_password_rule() -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, run_password().as_bytes());
    format!("#{}", hex(digest.as_ref()))
}

/// The default user guarded by the run's password, with the permissions
/// it has out of the box: the `user` directive of every server the harness
/// starts (unless the scenario sets `requirepass` or its own users).
pub fn default_user_directive() -> String {
    format!("default on {} ~* &* +@all", run_password_rule())
}

/// `text` with the run's password replaced by [`REDACTED`], for anything
/// shown: replies, errors, command lines, a program's output.
pub fn redact(text: &str) -> Cow<'_, str> {
    match PASSWORD.get() {
        Some(p) if text.contains(p.as_str()) => Cow::Owned(text.replace(p.as_str(), REDACTED)),
        _ => Cow::Borrowed(text),
    }
}

/// Whether `bytes` hold the run's password (a reply to be shown through
/// [`redact`]).
pub fn holds_password(bytes: &[u8]) -> bool {
    PASSWORD.get().is_some_and(|p| {
        let p = p.as_bytes();
        !p.is_empty() && bytes.windows(p.len()).any(|w| w == p)
    })
}

/// The run's password, once made ([`redact`] does not make it).
static PASSWORD: OnceLock<String> = OnceLock::new();

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
