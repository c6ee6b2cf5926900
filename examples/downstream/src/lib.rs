//! An application that stores users in Valkey hashes: the thing this crate's
//! feature files describe. Its acceptance specs live in `tests/features/`,
//! its own step in `tests/cucumber.rs`.

/// The key under which a user is stored.
pub fn user_key(name: &str) -> String {
    format!("user:{name}")
}
