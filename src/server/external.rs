//! A [`Server`] that someone else runs ([`crate::external`] makes them):
//! the same handle for steps, with no process, directory or log of the
//! harness's.

use std::path::PathBuf;
use std::sync::atomic::AtomicU32;

use tokio::sync::Mutex;

use super::{Place, Proc, Server, Transport, Workdir};
use crate::binary::ServerBinary;
use crate::client::{Address, Credentials};
use crate::error::{Error, Result};

/// Where a server someone else runs is, and how the harness gets in
/// ([`Server::borrowed`]).
pub(crate) struct Borrowed {
    /// Where it listens.
    pub host: String,
    /// Its client port.
    pub port: u16,
    /// How the harness reaches it.
    pub address: Address,
    /// Who the harness authenticates as.
    pub credentials: Option<Credentials>,
    /// What it runs.
    pub binary: std::sync::Arc<ServerBinary>,
    /// The database the scenarios use.
    pub db: u32,
}

impl Server {
    /// A handle on a server someone else runs, called `name` in the
    /// scenario; `dir` is where its files would be (nothing is written
    /// there). `Server::external` ([`crate::external`]) makes these.
    pub(crate) fn borrowed(name: &str, place: Borrowed, dir: PathBuf) -> Server {
        let Borrowed {
            host,
            port,
            address,
            credentials,
            binary,
            db,
        } = place;
        Server {
            name: std::sync::RwLock::new(name.to_string()),
            transport: Transport::Tcp,
            admin: std::sync::RwLock::new(credentials),
            guarded: false.into(),
            certificate_logins: false,
            binary,
            place: Place::External {
                host,
                port,
                address,
                db,
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
