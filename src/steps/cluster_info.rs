//! `CLUSTER INFO` fields of one node: what a node believes about the
//! cluster (`cluster_state`) and the messages it has counted
//! (`cluster_stats_messages_module_received` for a module's own messages).

use cucumber::{given, then, when};

use super::ServerRef;
use crate::compare::Expected;
use crate::error::Result;
use crate::world::{Subject, ValkeyWorld};

/// Waits until a `CLUSTER INFO` field of that node has exactly this value:
/// `the CLUSTER INFO field "cluster_state" of node 1 becomes "fail"`. A field
/// the node does not print never matches.
#[given(expr = "the CLUSTER INFO field {string} of {server} becomes {string}")]
#[when(expr = "the CLUSTER INFO field {string} of {server} becomes {string}")]
#[then(expr = "the CLUSTER INFO field {string} of {server} becomes {string}")]
async fn cluster_info_of_becomes(
    w: &mut ValkeyWorld,
    field: String,
    server: ServerRef,
    value: String,
) -> Result<()> {
    let (field, value) = (w.expand(&field).await?, w.expand(&value).await?);
    let server = w.resolve_name(&server).await?;
    w.check_until(
        &Subject::ClusterInfo { server, field },
        &Expected::Text(value),
    )
    .await
}
