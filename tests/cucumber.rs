//! Runs every feature under `features/`.

#[tokio::main]
async fn main() {
    valkey_bdd::run("features").await;
}
