//! What a run is doing while it runs. On a terminal, a live line at the
//! bottom of stderr: scenarios done out of those selected, failures so far,
//! and the scenarios running longest with their elapsed time. Off a terminal
//! (CI logs), no line is redrawn and no colour code is written: a scenario
//! still running after [`crate::settings::slow_notice`] is named once, on a
//! plain line.
//!
//! The runner's event recorder tells the [`Board`] which
//! scenarios start and end; a task of its own ([`Board::spawn`]) redraws the
//! line or writes the notices, so the run never waits for the terminal.
//! Whatever the run prints itself goes through [`Board::suspend`] (see
//! [`Output`]), which takes the line away while the text is written.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A scenario by feature file and line, as the recorder keys it.
type Key = super::record::Key;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not at all (a quiet run inside a test of the harness).
    Off,
    /// A line redrawn in place: stderr is a terminal.
    Live,
    /// A plain line for each scenario running longer than this.
    Notices(Duration),
}

impl Mode {
    /// [`Mode::Live`] on a terminal, else notices after `slow`.
    pub fn detect(quiet: bool, slow: Duration) -> Mode {
        if quiet {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Live
        } else {
            Mode::Notices(slow)
        }
    }
}

#[derive(Debug)]
struct Running {
    name: String,
    place: String,
    since: Instant,
    noticed: bool,
}

#[derive(Debug, Default)]
struct State {
    selected: usize,
    done: usize,
    failed: usize,
    running: HashMap<Key, Running>,
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    state: Mutex<State>,
    /// The live line (only in [`Mode::Live`]).
    bar: Option<ProgressBar>,
}

/// The run's progress, shared by the recorder, the output and the task that
/// shows it.
#[derive(Debug, Clone)]
pub struct Board(Arc<Inner>);

/// How many running scenarios the live line names.
const SHOWN: usize = 3;

impl Board {
    /// A board for a run of `selected` scenarios.
    pub fn new(selected: usize, mode: Mode) -> Board {
        let bar = (mode == Mode::Live).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(selected as u64),
                ProgressDrawTarget::stderr_with_hz(5),
            );
            bar.set_style(
                ProgressStyle::with_template("{wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Board(Arc::new(Inner {
            mode,
            state: Mutex::new(State {
                selected,
                ..State::default()
            }),
            bar,
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A scenario started.
    pub fn started(&self, key: Key, name: &str, place: &str) {
        self.state().running.insert(
            key,
            Running {
                name: name.to_string(),
                place: place.to_string(),
                since: Instant::now(),
                noticed: false,
            },
        );
    }

    /// A scenario ended.
    pub fn finished(&self, key: &Key, failed: bool) {
        let mut s = self.state();
        if s.running.remove(key).is_some() {
            s.done += 1;
            s.failed += usize::from(failed);
        }
    }

    /// `12/54 scenarios, 1 failed · running: "Rebalance" 8.2 s, ...`
    pub fn line(&self) -> String {
        let s = self.state();
        let mut running: Vec<&Running> = s.running.values().collect();
        running.sort_by_key(|r| r.since);
        let mut line = format!("{}/{} scenarios, {} failed", s.done, s.selected, s.failed);
        if !running.is_empty() {
            line.push_str(&format!(" · {} running, longest:", running.len()));
            let shown: Vec<String> = running
                .iter()
                .take(SHOWN)
                .map(|r| format!(" \"{}\" {:.1} s", r.name, r.since.elapsed().as_secs_f64()))
                .collect();
            line.push_str(&shown.join(","));
        }
        line
    }

    /// The notices due now: one for each scenario that has run longer than
    /// `after` and was not named yet.
    pub fn notices(&self, after: Duration) -> Vec<String> {
        let mut s = self.state();
        let mut out = Vec::new();
        let mut due: Vec<&mut Running> = s
            .running
            .values_mut()
            .filter(|r| !r.noticed && r.since.elapsed() >= after)
            .collect();
        due.sort_by_key(|r| r.since);
        for r in due {
            r.noticed = true;
            out.push(format!(
                "valkey-bdd: still running after {:.1} s: \"{}\" ({})",
                r.since.elapsed().as_secs_f64(),
                r.name,
                r.place
            ));
        }
        out
    }

    /// Runs `f` with the live line taken away (it comes back on the next
    /// redraw), so that text written meanwhile does not mix with it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Starts showing progress in a task of its own; it stops, and the live
    /// line goes away, when the returned guard is dropped.
    pub fn spawn(&self) -> Shown {
        let board = self.clone();
        let task = match self.0.mode {
            Mode::Off => None,
            Mode::Live => Some(tokio::spawn(async move {
                loop {
                    if let Some(bar) = &board.0.bar {
                        bar.set_message(board.line());
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })),
            Mode::Notices(after) => Some(tokio::spawn(async move {
                loop {
                    for notice in board.notices(after) {
                        eprintln!("{notice}");
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            })),
        };
        Shown {
            board: self.clone(),
            task,
        }
    }
}

/// Progress being shown; dropping it stops the task and clears the line.
#[derive(Debug)]
pub struct Shown {
    board: Board,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Shown {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(bar) = &self.board.0.bar {
            bar.finish_and_clear();
        }
    }
}

/// Output that takes the live line away while it writes (cucumber's own
/// printing of the run goes through it).
pub struct Output<W> {
    board: Board,
    inner: W,
}

impl<W> Output<W> {
    /// Writes to `inner`, around `board`'s line.
    pub fn new(board: Board, inner: W) -> Self {
        Output { board, inner }
    }
}

impl<W: std::io::Write> std::io::Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let inner = &mut self.inner;
        self.board.suspend(|| inner.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let inner = &mut self.inner;
        self.board.suspend(|| inner.flush())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_and_names_the_longest_running_first() {
        let board = Board::new(3, Mode::Off);
        board.started((None, 1, String::new()), "first", "a.feature:1");
        std::thread::sleep(Duration::from_millis(5));
        board.started((None, 2, String::new()), "second", "a.feature:2");
        board.started((None, 3, String::new()), "third", "a.feature:3");
        board.finished(&(None, 3, String::new()), true);
        let line = board.line();
        assert!(
            line.starts_with("1/3 scenarios, 1 failed · 2 running, longest: \"first\""),
            "{line}"
        );
        assert!(line.find("first") < line.find("second"), "{line}");
    }

    #[test]
    fn a_slow_scenario_is_noticed_once_in_plain_text() {
        let board = Board::new(1, Mode::Off);
        board.started((None, 7, String::new()), "slow one", "a.feature:7");
        assert!(board.notices(Duration::from_secs(60)).is_empty());
        let n = board.notices(Duration::ZERO);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("\"slow one\" (a.feature:7)"), "{n:?}");
        assert!(!n[0].contains('\x1b'), "{n:?}");
        assert!(board.notices(Duration::ZERO).is_empty());
    }
}
