//! Several commands in one round trip on the harness's own connection.

use super::Server;
use crate::error::Result;
use crate::reply::Reply;

impl Server {
    /// Sends `commands` (each given as its arguments) at once on the
    /// harness's own connection, the one [`Server::command`] keeps, and
    /// returns their replies in order: an error reply is a
    /// [`Reply::Error`] in its place, not an `Err`. As with
    /// [`Server::command`], a kept connection found closed is replaced once
    /// by a fresh one before the batch is sent again.
    pub async fn pipeline(&self, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>> {
        self.on_kept("running a pipeline", async |c| {
            c.run_pipeline(commands).await
        })
        .await
    }
}
