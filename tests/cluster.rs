//! Clusters from plain Rust.

use std::time::Instant;

use valkey_bdd::Reply;
use valkey_bdd::cluster::{Cluster, ClusterSpec, NodesView};

#[tokio::test]
async fn a_cluster_is_formed_ready_and_agreed() {
    let started = Instant::now();
    let cluster = Cluster::start(ClusterSpec::new(3, 1)).await.unwrap();
    eprintln!("3x1 formed in {:?}", started.elapsed());
    assert_eq!(cluster.nodes().len(), 6);
    let view = NodesView::of(&cluster.nodes()[0]).await.unwrap();
    for n in &cluster.nodes()[1..] {
        assert_eq!(
            NodesView::of(n).await.unwrap(),
            view,
            "every node sees the same map"
        );
    }
    let mut client = cluster.client().await.unwrap();
    for i in 0..50 {
        assert_eq!(
            client.run(&format!("SET key:{i} {i}")).await.unwrap(),
            Reply::Status("OK".into())
        );
    }
    assert_eq!(
        client.run("GET key:7").await.unwrap(),
        Reply::Bulk(b"7".to_vec())
    );
    let slot = cluster.keyslot("key:7").await.unwrap();
    let owner = cluster.owner_of_slot(slot).await.unwrap();
    assert_eq!(
        owner.command("GET key:7").await.unwrap(),
        Reply::Bulk(b"7".to_vec())
    );
    for n in &cluster.nodes() {
        n.stop().await.unwrap();
    }
}
