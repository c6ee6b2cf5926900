//! Several commands in one round trip on the harness's own connection.

use super::{Server, Status};
use crate::error::{Error, Result};
use crate::reply::Reply;

impl Server {
    /// Sends `commands` (each given as its arguments) at once on the
    /// harness's own connection, the one [`Server::command`] keeps, and
    /// returns their replies in order: an error reply is a
    /// [`Reply::Error`] in its place, not an `Err`. As with
    /// [`Server::command`], a kept connection found closed is replaced once
    /// by a fresh one before the batch is sent again.
    pub async fn pipeline(&self, commands: &[Vec<Vec<u8>>]) -> Result<Vec<Reply>> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(mut c) = kept {
            match c.run_pipeline(commands).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    self.forget_connection();
                    let e = self.explain(e, "running a pipeline").await;
                    if !matches!(e, Error::Connection { .. })
                        || !matches!(self.status().await, Status::Running { .. })
                    {
                        return Err(e);
                    }
                }
            }
        }
        let mut c = self.client().await?;
        *self.kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
        match c.run_pipeline(commands).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.forget_connection();
                Err(self.explain(e, "running a pipeline").await)
            }
        }
    }
}
