//! Modules every server of a scenario loads: the run's (`--module` or
//! `VALKEY_BDD_MODULE`), and those a Background names once for a feature.

use super::ValkeyWorld;
use crate::error::Result;
use crate::modules::ModuleLoad;

impl ValkeyWorld {
    /// Has every server the scenario starts from now on — alone, in a
    /// replica set or in a cluster — load this module too.
    ///
    /// ```no_run
    /// # async fn demo(w: &mut valkey_bdd::ValkeyWorld) -> valkey_bdd::Result<()> {
    /// use valkey_bdd::modules::ModuleLoad;
    /// w.load_in_every_server(ModuleLoad::of_crate("my-module", "").await?);
    /// w.start_server(valkey_bdd::ServerSpec::new("default")).await?; // loads it
    /// # Ok(()) }
    /// ```
    pub fn load_in_every_server(&mut self, module: ModuleLoad) {
        if !self.every_server.iter().any(|m| m.same_library(&module)) {
            self.every_server.push(module);
        }
    }

    /// The modules every server of the scenario loads: the run's first,
    /// then the scenario's, in the order they were named.
    pub fn modules_of_every_server(&self) -> Result<Vec<ModuleLoad>> {
        Ok(ModuleLoad::of_run()?
            .into_iter()
            .chain(self.every_server.iter().cloned())
            .collect())
    }

    /// `spec` with every such module added by `load` (a spec's own `load`,
    /// which skips a library the spec already loads).
    pub(super) fn with_every_module<S>(
        &self,
        spec: S,
        load: impl FnMut(S, &ModuleLoad) -> S,
    ) -> Result<S> {
        Ok(self.modules_of_every_server()?.iter().fold(spec, load))
    }
}
