//! Runs every feature under `features/`, and writes the run's HTML report to
//! `target/valkey-bdd-report.html` (`VALKEY_BDD_REPORT` or `--report` name
//! another place).

#[tokio::main]
async fn main() {
    let mut runner = valkey_bdd::Runner::new("features");
    if std::env::var_os("VALKEY_BDD_REPORT").is_none() {
        runner = runner.report(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/valkey-bdd-report.html"
        ));
    }
    runner.run_and_exit().await;
}
