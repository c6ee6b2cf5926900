//! A [`Server`] that someone else runs ([`crate::external`]): the same
//! handle for steps, with no process, directory or log of the harness's.

use std::path::PathBuf;
use std::sync::atomic::AtomicU32;

use tokio::sync::Mutex;

use super::{Place, Proc, Server, Transport, Workdir};
use crate::error::{Error, Result};
use crate::external::{External, Node};

impl Server {
    /// A handle on the external node `node`, called `name` in the scenario;
    /// `dir` is where its files would be (nothing is written there). The
    /// harness authenticates as the endpoint's URL says, and named clients
    /// too: the external server has no password of the run's.
    pub fn external(name: &str, external: &External, node: &Node, dir: PathBuf) -> Server {
        let address = external.endpoint.address_of(&node.host, node.port);
        Server {
            name: std::sync::RwLock::new(name.to_string()),
            transport: Transport::Tcp,
            admin: std::sync::RwLock::new(external.endpoint.credentials.clone()),
            guarded: false.into(),
            certificate_logins: false,
            binary: external.binary.clone(),
            place: Place::External {
                host: node.host.clone(),
                port: node.port,
                address,
                db: external.database,
            },
            workdir: std::sync::Mutex::new(Workdir::Borrowed(dir.clone())),
            log: dir.join("server.log"),
            conf: dir.join("valkey.conf"),
            dir,
            start_timeout: std::time::Duration::ZERO,
            pid: AtomicU32::new(0),
            proc: Mutex::new(Proc::default()),
            attempts: 0,
            frozen: Default::default(),
            kept: Default::default(),
            log_from: Default::default(),
            seat: None,
        }
    }

    /// The database every connection to an external server selects; 0 for
    /// the harness's own servers.
    pub fn external_database(&self) -> u32 {
        match &self.place {
            Place::External { db, .. } => *db,
            Place::Leased(_) => 0,
        }
    }

    /// Selects the run's database on a new connection to an external server
    /// that keeps off the server's own databases.
    pub(super) async fn select_external_database(
        &self,
        client: &mut crate::client::Client,
    ) -> Result<()> {
        let db = self.external_database();
        if db == 0 {
            return Ok(());
        }
        match client.run(&format!("SELECT {db}")).await? {
            crate::reply::Reply::Error(e) => Err(Error::Expectation(format!(
                "{}: `SELECT {db}` answered {e}",
                self.describe()
            ))),
            _ => Ok(()),
        }
    }

    /// `Err` for a server the harness did not start: it cannot `what`.
    pub(super) fn own_process(&self, what: &str) -> Result<()> {
        if !self.is_external() {
            return Ok(());
        }
        Err(Error::Config {
            what: format!(
                "{} was not started by the harness: it cannot {what}",
                self.describe()
            ),
            hint: "tag the scenario @external:skip, or run it without VALKEY_BDD_EXTERNAL".into(),
        })
    }
}
