//! The docs cannot lie: every fenced `gherkin` block of `README.md` and of the
//! book (`docs/src/`) is run, all of them in one `valkey-bdd run` child; the
//! book builds with `mdbook`; every link to a page or an image resolves.
//!
//! A block's info string may carry one marker after the language (the
//! conventions are written for authors in `docs/src/contributing.md`, "The
//! book's examples are tested"):
//! - none: the block runs (a block with no `Feature:` line is given one);
//! - `fragment`: parsed with the book's step libraries expanded, each step
//!   checked against the vocabulary, not run (it needs what the machine lacks);
//! - `rust-steps`: parsed only (its sentences are defined in Rust beside it).
//!
//! A block whose first line is a comment naming a `.feature` or `.steps` file
//! is written under that name: a `.steps` one is a step library of the run.

mod common;

use std::path::{Path, PathBuf};

use valkey_bdd::runner::library::Library;
use valkey_bdd::runner::select::{Criteria, Gate};

use common::BIN;

/// Where the book's pages are.
const BOOK_SRC: &str = "docs/src";

/// A fenced block of a Markdown page.
struct Block {
    /// The page, as the repository names it.
    page: PathBuf,
    /// The line of the opening fence.
    line: usize,
    /// The info string's language (`gherkin`, `sh`, …).
    lang: String,
    /// The markers after the language.
    markers: Vec<String>,
    /// The text between the fences.
    text: String,
}

/// `README.md` and every page of the book.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![PathBuf::from("README.md")];
    walk(Path::new(BOOK_SRC), &mut out);
    out.sort();
    out
}

/// The fenced blocks of a page.
fn blocks(page: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(page).unwrap();
    let mut out = Vec::new();
    let mut open: Option<(usize, String, usize)> = None;
    let mut body = String::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match (&open, trimmed.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some((n + 1, info.trim().to_string(), indent));
                body.clear();
            }
            (Some((start, info, _)), Some(rest)) if rest.trim().is_empty() => {
                let mut parts = info.split(',').map(|p| p.trim().to_string());
                out.push(Block {
                    page: page.to_path_buf(),
                    line: *start,
                    lang: parts.next().unwrap_or_default(),
                    markers: parts.filter(|p| !p.is_empty()).collect(),
                    text: std::mem::take(&mut body),
                });
                open = None;
            }
            (Some((_, _, fence_indent)), _) => {
                body.push_str(line.get(*fence_indent..).unwrap_or(trimmed));
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(
        open.is_none(),
        "{}: a fenced block is never closed",
        page.display()
    );
    out
}

/// Where a block goes, relative to its folder: the file its first line
/// names (`# tests/bdd/commands.feature`), else one named after its line.
fn file_of(block: &Block) -> PathBuf {
    let first = block.text.lines().next().unwrap_or_default().trim();
    match first.strip_prefix("# ") {
        Some(name)
            if !name.contains(' ') && (name.ends_with(".feature") || name.ends_with(".steps")) =>
        {
            assert!(
                !name.starts_with('/') && !name.contains(".."),
                "{}:{}: a block names its file inside its folder: {name}",
                block.page.display(),
                block.line
            );
            PathBuf::from(name)
        }
        _ => PathBuf::from(format!("line-{}.feature", block.line)),
    }
}

/// The block as a file: a feature without a `Feature:` line gets one.
fn contents_of(block: &Block, file: &Path) -> String {
    let is_library = file.extension().is_some_and(|e| e == "steps");
    let has_feature = block
        .text
        .lines()
        .any(|l| l.trim_start().starts_with("Feature:"));
    if is_library || has_feature {
        block.text.clone()
    } else {
        format!(
            "Feature: {}:{}\n\n{}",
            block.page.display(),
            block.line,
            block.text
        )
    }
}

/// The blocks laid out under `root`: `run/` (run by the child), `fragments/`
/// (parsed and checked), `parsed/` (parsed only), one folder per page.
/// Returns how many blocks went to each.
fn lay_out(root: &Path) -> [usize; 3] {
    let mut counts = [0; 3];
    let mut written = std::collections::HashSet::new();
    for page in pages() {
        for block in blocks(&page).into_iter().filter(|b| b.lang == "gherkin") {
            let place = format!("{}:{}", block.page.display(), block.line);
            let kind = match block.markers.as_slice() {
                [] => 0,
                [m] if m == "fragment" => 1,
                [m] if m == "rust-steps" => 2,
                other => panic!(
                    "{place}: unknown marker {other:?} on a gherkin block (known: fragment, rust-steps; \
                     docs/src/contributing.md, \"The book's examples are tested\")"
                ),
            };
            counts[kind] += 1;
            let folder = ["run", "fragments", "parsed"][kind];
            let slug = page
                .with_extension("")
                .display()
                .to_string()
                .replace('/', "_");
            let file = file_of(&block);
            let path = root.join(folder).join(slug).join(&file);
            assert!(
                written.insert(path.clone()),
                "{place}: a second block of the page is named {}",
                file.display()
            );
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, contents_of(&block, &file)).unwrap();
        }
    }
    counts
}

/// The `*.steps` files under `dir`.
fn libraries(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            libraries(&path, out);
        } else if path.extension().is_some_and(|e| e == "steps") {
            out.push(path);
        }
    }
}

#[test]
fn every_gherkin_block_of_the_readme_and_the_book_runs_as_written() {
    let root = tempfile::tempdir().unwrap();
    let [run, fragments, parsed] = lay_out(root.path());
    assert!(
        run >= 10 && fragments >= 1 && parsed >= 1,
        "too few blocks found: {run} to run, {fragments} fragments, {parsed} parsed only"
    );

    // Fragments: the book's step libraries expanded, every step a sentence.
    let mut libs = Vec::new();
    libraries(root.path(), &mut libs);
    let library = Library::read(&libs).unwrap_or_else(|e| panic!("{e}"));
    let criteria = Criteria::default();
    let gate = Gate::load_with(&[root.path().join("fragments")], &criteria, &library)
        .unwrap_or_else(|e| panic!("{e}"));
    valkey_bdd::runner::check_steps(&gate).unwrap_or_else(|e| panic!("{e}"));
    Gate::load_with(
        &[root.path().join("parsed")],
        &criteria,
        &Library::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // The rest: one run, from the repository's root (a module "of the crate"
    // is built from this workspace), which must pass.
    let run_dir = root.path().join("run");
    let scenarios = Gate::load_with(std::slice::from_ref(&run_dir), &criteria, &library)
        .unwrap_or_else(|e| panic!("{e}"))
        .candidates
        .len();
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .arg("run")
        .arg(&run_dir)
        .args(["--keep", "never"])
        .env("VALKEY_BDD_TMPDIR", tmp.path())
        .env("VALKEY_BDD_DURATIONS", "off")
        .env_remove("VALKEY_BDD_MATRIX")
        .env_remove("VALKEY_BDD_JUNIT")
        .env_remove("VALKEY_BDD_JSON")
        .env_remove("VALKEY_BDD_REPORT")
        .env_remove("VALKEY_BDD_STEPS")
        .env_remove("VALKEY_BDD_MODULE")
        .env_remove("MODULE_PATH")
        .env_remove("VALKEY_BDD_MODULE_ARGS")
        .env_remove("VALKEY_BDD_EXTERNAL")
        .output()
        .unwrap();
    let all = common::text(&out);
    let all = all.replace(&run_dir.display().to_string(), "<blocks>");
    assert_eq!(
        out.status.code(),
        Some(0),
        "a block of the README or the book fails (each file is <blocks>/<page>/line-N.feature, \
         N the line of its fence):\n{all}"
    );
    let summary = regex::Regex::new(
        r"valkey-bdd: (\d+) scenarios? selected: (\d+) passed, 0 failed, (\d+) skipped",
    )
    .unwrap();
    let c = summary
        .captures(&all)
        .unwrap_or_else(|| panic!("no summary line:\n{all}"));
    let number = |i: usize| c[i].parse::<usize>().unwrap();
    assert_eq!(
        number(1),
        scenarios,
        "not every block's scenario ran:\n{all}"
    );
    assert!(number(2) >= 1, "{all}");
    if number(3) > 0 {
        // A capability the machine lacks; the reasons are in the summary.
        eprintln!("{all}");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A heading's anchor as mdBook and GitHub make it: lower case, spaces as
/// `-`, other punctuation dropped.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings, outside its code blocks.
fn anchors(file: &Path) -> Vec<String> {
    let mut fenced = false;
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            !fenced && l.starts_with('#')
        })
        .map(|l| anchor_of(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_link_to_a_page_or_an_image_resolves() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let book = std::path::absolute(BOOK_SRC).unwrap();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut fenced = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            if fenced {
                continue;
            }
            for c in link.captures_iter(line) {
                let target = &c[1];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let place = format!("{}:{}", page.display(), n + 1);
                let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
                let path = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(file)
                };
                if !path.exists() {
                    wrong.push(format!("{place}: {target}: no such file"));
                    continue;
                }
                // The built book holds only what is under docs/src.
                let inside = std::path::absolute(&path)
                    .map(|p| p.starts_with(&book))
                    .unwrap_or(false);
                if page.starts_with(BOOK_SRC) && !inside {
                    wrong.push(format!(
                        "{place}: {target} is outside {BOOK_SRC}: the built book would not have it \
                         (name a repository file as `code`, not as a link)"
                    ));
                }
                if !anchor.is_empty() && !anchors(&path).iter().any(|a| a == anchor) {
                    wrong.push(format!(
                        "{place}: {target}: no heading has the anchor #{anchor}"
                    ));
                }
            }
        }
    }
    assert!(checked >= 10, "too few links found: {checked}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The `mdbook` command: on `PATH`, else in cargo's bin directory, where
/// `.ci/install-server` puts it.
fn mdbook() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    on_path
        .into_iter()
        .chain(cargo_home.map(|h| h.join("bin")))
        .map(|dir| dir.join("mdbook"))
        .find(|p| p.is_file())
}

#[test]
fn the_book_builds_with_mdbook() {
    let Some(mdbook) = mdbook() else {
        panic!(
            "mdbook is not installed (looked on PATH and in cargo's bin directory): \
             run `bash .ci/install-server`, which installs it with `cargo install mdbook --locked`"
        );
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&mdbook)
        .args(["build", "docs", "--dest-dir"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let all = common::text(&out);
    assert!(
        out.status.success(),
        "`{} build docs` failed:\n{all}",
        mdbook.display()
    );
    assert!(
        !all.contains("WARN") && !all.contains("ERROR"),
        "`mdbook build docs` warns:\n{all}"
    );
    let html = |page: &str| {
        std::fs::read_to_string(out_dir.path().join(page))
            .unwrap_or_else(|e| panic!("the built book has no {page}: {e}"))
    };
    // The vocabulary page is STEPS.md, included whole.
    let vocabulary = html("vocabulary.html");
    let steps = std::fs::read_to_string("STEPS.md").unwrap();
    let heading = steps.lines().find(|l| l.starts_with("## ")).unwrap();
    assert!(
        vocabulary.contains("Step glossary")
            && vocabulary.contains(heading.trim_start_matches("## ")),
        "vocabulary.html does not hold STEPS.md"
    );
    html("servos/protocol.html");
    assert!(
        html("reports.html").contains("report.png") && out_dir.path().join("report.png").is_file(),
        "the report's screenshot is not in the built book"
    );
    assert!(
        std::fs::read_to_string(".gitignore")
            .unwrap()
            .lines()
            .any(|l| l.trim() == "/docs/book"),
        "docs/book, where `mdbook build docs` writes, must be ignored by git"
    );
}
