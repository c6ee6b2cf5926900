//! What servers write stays in their own directories, and the repository
//! keeps none of it.
//!
//! A `nodes.conf` of a one-node cluster (port 17777, slots 1-2) was once
//! committed at the repository root: no code of the harness writes such a
//! node (clusters take all 16384 slots, from leased ports, in private
//! directories); it came from a server started by hand with the checkout as
//! its working directory. These tests keep both halves true: the harness's
//! servers, standalone and cluster, write into their own directories only,
//! whatever the working directory is; and git tracks no server state.

mod common;

use std::path::Path;
use std::process::Command;

use valkey_bdd::cluster::{Cluster, ClusterSpec};
use valkey_bdd::{Reply, Server, ServerSpec};

/// Files a server writes that must never be committed (a repository path).
fn is_server_state(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    (name.starts_with("nodes") && name.ends_with(".conf"))
        || name == "dump.rdb"
        || (name.starts_with("appendonly") && name.ends_with(".aof"))
        || path.split('/').any(|c| c == "appendonlydir")
}

/// The repository's files: what git tracks in a checkout, else (a source
/// tarball) every file of the tree but `target/` and `.build/`.
fn repository_files(root: &Path) -> Vec<String> {
    if root.join(".git").exists() {
        let out = Command::new("git")
            .args(["ls-files", "-z"])
            .current_dir(root)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git ls-files: {out:?}");
        return out
            .stdout
            .split(|&b| b == 0)
            .filter(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                if rel != "target" && rel != ".build" {
                    dirs.push(path);
                }
            } else {
                files.push(rel);
            }
        }
    }
    files
}

#[test]
fn the_repository_tracks_no_server_state() {
    let files = repository_files(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        files.iter().any(|f| f == "Cargo.toml"),
        "the repository's files include no Cargo.toml: {files:?}"
    );
    let state: Vec<&String> = files.iter().filter(|f| is_server_state(f)).collect();
    assert!(state.is_empty(), "server state is committed: {state:?}");
}

/// The child's part of the test below; does nothing in a normal run.
#[tokio::test]
async fn child_process_entry() {
    let Ok(parent) = std::env::var("VALKEY_BDD_TEST_PARENT") else {
        return;
    };
    let ok = Reply::Status("OK".into());
    let server = Server::start(ServerSpec::new("standalone").in_dir(&parent))
        .await
        .unwrap();
    assert_eq!(server.command("SET k v").await.unwrap(), ok);
    assert_eq!(server.command("SAVE").await.unwrap(), ok);
    assert!(server.dir().join("dump.rdb").is_file());
    let cluster = Cluster::start(ClusterSpec::new(1, 0).in_dir(&parent))
        .await
        .unwrap();
    let node = &cluster.nodes()[0];
    assert_eq!(node.command("CLUSTER SAVECONFIG").await.unwrap(), ok);
    assert_eq!(node.command("SAVE").await.unwrap(), ok);
    assert!(node.dir().join("nodes.conf").is_file());
    println!(
        "WROTE {} {}",
        server.dir().join("dump.rdb").display(),
        node.dir().join("nodes.conf").display()
    );
    server.stop().await.unwrap();
    node.stop().await.unwrap();
}

#[test]
fn servers_write_nothing_into_the_working_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let out = common::this_test("child_process_entry")
        .current_dir(cwd.path())
        .env("VALKEY_BDD_TEST_PARENT", parent.path())
        .env("VALKEY_BDD_TMPDIR", parent.path())
        .env("VALKEY_BDD_CLUSTER_POOL", "0")
        .output()
        .unwrap();
    let text = common::text(&out);
    assert!(out.status.success(), "{text}");
    // The servers did write their state: into their own directories.
    assert!(text.contains("WROTE "), "{text}");
    let left: Vec<_> = std::fs::read_dir(cwd.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "written into the working directory: {left:?}"
    );
}
