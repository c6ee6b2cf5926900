//! The whole suite against every server binary of the machine, as a table
//! of scenario × server: Valkey from the distribution, Redis from the
//! distribution, Valkey built from source by `valkey-bdd build`, and the
//! Valkey 9 binary without TLS. CI's proof that the matrix works and that
//! every feature passes (or is skipped with its reason) on each.

use std::path::PathBuf;

use valkey_bdd::Runner;
use valkey_bdd::matrix::{self, Column};

fn column(name: &str, path: impl Into<PathBuf>) -> Option<Column> {
    let path = path.into();
    path.exists().then(|| Column {
        name: name.to_string(),
        path,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_on_every_server() {
    let mut columns: Vec<Column> = Vec::new();
    columns.extend(column("valkey (distribution)", "/usr/bin/valkey-server"));
    columns.extend(column("redis (distribution)", "/usr/bin/redis-server"));
    if let Ok(dirs) = std::fs::read_dir(".build/binaries") {
        let mut built: Vec<PathBuf> = dirs.flatten().map(|d| d.path()).collect();
        built.sort();
        for dir in built {
            let version = dir.file_name().unwrap().to_string_lossy().into_owned();
            columns.extend(column(
                &format!("valkey {version} (.build)"),
                dir.join("valkey-server"),
            ));
        }
    }
    assert!(
        columns.len() >= 3,
        "the matrix needs three servers; found {columns:?}: run `bash .ci/install-server`"
    );
    let base = Runner::new("features").args(["matrix"]).quiet();
    let m = matrix::run(&base, &columns).await.unwrap();
    println!("{}", m.render());
    assert!(
        !m.failed(),
        "a scenario failed on a server:\n{}",
        m.render()
    );
}
