//! The selection gate: every way of choosing scenarios goes through here.
//!
//! Name filters (`cargo test persistence`), `--name`, `--tags` and `-i`
//! narrow the feature files down to a selection; then the capability tags of
//! the selected scenarios are checked against the server binary, and a
//! scenario whose requirement is unmet is skipped with the reason (or, under
//! `VALKEY_BDD_STRICT`, fails the run). The unknown-step check and the size
//! of the cluster node pool are computed from the same files and selection,
//! so no way of starting a run can bypass them.
//!
//! Harness tags are spelled `@requires:tls`, `@min-version:8.1`,
//! `@engine:valkey` — a spelling cucumber tag expressions accept. The older
//! `@requires(tls)` spelling keeps working, in feature files and in `--tags`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use cucumber::feature::Ext as _;
use cucumber::gherkin;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;

use crate::binary::ServerBinary;
use crate::error::{Error, Result};

/// What the command line asks for.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// libtest-style filters: one must occur, ignoring case, in the
    /// scenario's name, its feature's name or its file's path.
    pub filters: Vec<String>,
    /// `--name`: a regular expression the scenario's name must match.
    pub name: Option<regex::Regex>,
    /// `--tags`: a tag expression the scenario's tags must satisfy.
    pub tags: Option<TagOperation>,
    /// `-i`/`--input`: globs naming the feature files (instead of the
    /// runner's folder).
    pub inputs: Vec<String>,
    /// `--exact`: whole test names ([`Candidate::test_name`]), as nextest
    /// asks for one test.
    pub exact: Vec<String>,
    /// `--shard i/n`: this machine's part of the selection.
    pub shard: Option<super::shard::Shard>,
    /// `--role` and `--combinations`: which combinations of the roles'
    /// implementations run.
    pub choice: super::combinations::Choice,
}

impl Criteria {
    /// Parses a `--tags` expression, with harness tags in either spelling.
    pub fn parse_tags(expr: &str) -> Result<TagOperation> {
        fn normalized(op: TagOperation) -> TagOperation {
            match op {
                TagOperation::And(a, b) => {
                    TagOperation::And(Box::new(normalized(*a)), Box::new(normalized(*b)))
                }
                TagOperation::Or(a, b) => {
                    TagOperation::Or(Box::new(normalized(*a)), Box::new(normalized(*b)))
                }
                TagOperation::Not(a) => TagOperation::Not(Box::new(normalized(*a))),
                TagOperation::Tag(t) => TagOperation::Tag(normalize_tag(&t)),
            }
        }
        normalize_expression(expr)
            .parse::<TagOperation>()
            .map(normalized)
            .map_err(|e| Error::Config {
                what: format!("--tags {expr:?} is not a tag expression: {e}"),
                hint: "write tags joined by and/or/not with parentheses, such as '@tls and not @slow'; harness tags read @requires:tls, @min-version:8.1, @engine:valkey".into(),
            })
    }
}

/// One scenario of the loaded files (outlines expanded by example row).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The feature file, canonical.
    pub path: PathBuf,
    /// The scenario's line (an outline's example row).
    pub line: usize,
    /// The feature's name.
    pub feature: String,
    /// The scenario's name.
    pub scenario: String,
    /// The combination of roles' implementations its name carries
    /// (`consumer=node, producer=python`), empty for none: with the path
    /// and line, what tells a scenario apart.
    pub combination: String,
    /// Its tags with those of its rule and feature, harness tags normalized
    /// (`requires:tls`), without the `@`.
    pub tags: Vec<String>,
    /// Its background steps, then its own.
    pub steps: Vec<gherkin::Step>,
    /// Its name as a test (nextest, shards): `features/x.feature: Name`. The
    /// scenarios of a feature that shares servers between them have the
    /// feature's name, `features/x.feature: (whole feature)`: they run as
    /// one test, in order, never split.
    pub test_name: String,
    /// Whether the criteria select it.
    pub selected: bool,
}

impl Candidate {
    /// `features/x.feature:12`, relative to the current directory.
    pub fn place(&self) -> String {
        format!("{}:{}", super::relative(&self.path), self.line)
    }

    /// What tells it apart: its file, line and combination.
    fn key(&self) -> (PathBuf, usize, String) {
        (self.path.clone(), self.line, self.combination.clone())
    }
}

/// The feature files a run reads, parsed, and which scenarios it selects.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// Every scenario of every file, selected or not.
    pub candidates: Vec<Candidate>,
    /// The files as parsed, outlines expanded and defined steps replaced by
    /// their inner steps: what cucumber runs.
    pub features: Vec<gherkin::Feature>,
    /// The user's steps that step-library definitions replaced, by line.
    pub calls: super::library::Calls,
    /// The sentences the step libraries define (for near-miss suggestions).
    pub defined: Vec<String>,
    /// How many scenarios the criteria select before `--shard` takes its
    /// part, and their digest ([`super::shard::Part::digest`]): the whole
    /// selection every part of a sharded run shares.
    pub whole: (usize, String),
    /// The roles file of each feature that has one.
    pub roles: super::servos::RunRoles,
}

/// The selection once requirements are checked.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    run: HashSet<(PathBuf, usize, String)>,
    /// Selected scenarios that will not run, with the reason.
    pub skipped: Vec<(Candidate, String)>,
    /// How many scenarios the criteria selected (run + skipped).
    pub selected: usize,
}

impl Selection {
    /// Whether cucumber should run this scenario (its file, line and name).
    pub fn runs(&self, path: Option<&Path>, line: usize, name: &str) -> bool {
        let Some(path) = path else { return false };
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.run
            .contains(&(path, line, super::combinations::label_of(name).to_string()))
    }

    /// Whether this candidate runs.
    pub fn runs_candidate(&self, c: &Candidate) -> bool {
        self.run.contains(&c.key())
    }

    /// How many scenarios will run.
    pub fn running(&self) -> usize {
        self.run.len()
    }

    /// Takes a scenario that would run out of the run, with the reason
    /// (a scenario an external server cannot run).
    pub fn skip(&mut self, c: &Candidate, reason: String) {
        if self.run.remove(&c.key()) {
            self.skipped.push((c.clone(), reason));
        }
    }
}

impl Gate {
    /// Reads the feature files (under `features`, or those the `-i` globs
    /// name) and marks the scenarios the criteria select. A file that cannot
    /// be parsed stops the run, with its line and the reason.
    pub fn load(features: &Path, criteria: &Criteria) -> Result<Gate> {
        Gate::load_with(
            &[features.to_path_buf()],
            criteria,
            &super::library::Library::default(),
        )
    }

    /// [`Gate::load`] of several files or folders, with the step library's
    /// definitions expanded in every feature.
    pub fn load_with(
        paths: &[PathBuf],
        criteria: &Criteria,
        library: &super::library::Library,
    ) -> Result<Gate> {
        let files = feature_files_of(paths, criteria)?;
        let mut errors = Vec::new();
        let mut candidates = Vec::new();
        let mut features = Vec::new();
        let mut calls = super::library::Calls::new();
        let mut roles = super::servos::RunRoles::default();
        for file in files {
            match parse(&file).and_then(|mut f| {
                calls.extend(library.expand(&mut f)?);
                Ok(f)
            }) {
                Ok(mut feature) => {
                    if let Some(r) = roles.add(&feature)? {
                        super::servos::keep_roles_in(&mut feature, &r);
                        super::combinations::multiply(&mut feature, &r, &criteria.choice)?;
                    }
                    candidates.extend(candidates_of(&feature, criteria));
                    features.push(feature);
                }
                Err(e) => errors.push(e),
            }
        }
        criteria.choice.check(&roles.files())?;
        name_tests(&mut candidates);
        for c in &mut candidates {
            c.selected =
                c.selected && (criteria.exact.is_empty() || criteria.exact.contains(&c.test_name));
        }
        let whole: Vec<(&str, usize)> = candidates
            .iter()
            .filter(|c| c.selected)
            .map(|c| (c.test_name.as_str(), c.line))
            .collect();
        let whole = (whole.len(), super::shard::Part::digest(whole));
        if let Some(shard) = &criteria.shard {
            // Shards apply after every other criterion, to whole tests.
            let mut names: Vec<&str> = candidates
                .iter()
                .filter(|c| c.selected)
                .map(|c| c.test_name.as_str())
                .collect();
            names.dedup();
            let parts: std::collections::HashMap<String, u64> = shard
                .assign(&names)
                .into_iter()
                .map(|(name, part)| (name.to_string(), part))
                .collect();
            for c in &mut candidates {
                c.selected = c.selected && parts.get(&c.test_name) == Some(&(shard.index - 1));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Parse {
                what: errors.join("\n"),
                hint: "fix the line named; STEPS.md shows how tables and doc strings are written"
                    .into(),
            });
        }
        Ok(Gate {
            candidates,
            features,
            calls,
            defined: library.sentences(),
            whole,
            roles,
        })
    }

    /// The scenarios the criteria select.
    pub fn selected(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().filter(|c| c.selected)
    }

    /// The tests the selection holds, once each, in file order: what
    /// `--list --format terse` prints for nextest.
    pub fn test_names(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.selected()
            .map(|c| c.test_name.as_str())
            .filter(|n| seen.insert(*n))
            .collect()
    }

    /// Every harness tag used by a selected scenario.
    pub fn tags_used(&self) -> std::collections::BTreeSet<String> {
        self.selected()
            .flat_map(|c| c.tags.iter().cloned())
            .collect()
    }

    /// Splits the selection into what runs and what is skipped, given the
    /// unmet requirements (tag → why). Under `strict`, an unmet requirement
    /// of a selected scenario stops the run instead.
    pub fn select(
        &self,
        unmet: &BTreeMap<String, String>,
        strict: bool,
        binary: &ServerBinary,
    ) -> Result<Selection> {
        let mut selection = Selection::default();
        let mut failing = Vec::new();
        for c in self.selected() {
            selection.selected += 1;
            match c.tags.iter().find_map(|t| unmet.get(t).map(|why| (t, why))) {
                None => {
                    selection.run.insert(c.key());
                }
                Some((tag, why)) => {
                    let reason = format!("@{tag}: {why}");
                    if strict {
                        failing.push(format!("{} \"{}\": {reason}", c.place(), c.scenario));
                    }
                    selection.skipped.push((c.clone(), reason));
                }
            }
        }
        if !failing.is_empty() {
            return Err(Error::Config {
                what: format!(
                    "VALKEY_BDD_STRICT is set and scenarios ask for what {} cannot give:\n  {}",
                    binary.path.display(),
                    failing.join("\n  ")
                ),
                hint: "use a server binary that has it (VALKEY_SERVER_PATH), or unset VALKEY_BDD_STRICT to skip those scenarios".into(),
            });
        }
        Ok(selection)
    }

    /// How many cluster nodes the scenarios that will run form with the
    /// default configuration: the ones the pool can serve.
    pub fn cluster_nodes_wanted(&self, selection: &Selection) -> usize {
        let re = regex::Regex::new(r"^a cluster of (\d+) shards?(?: with (\d+) replicas? each)?$")
            .expect("valid regex");
        self.selected()
            .filter(|c| selection.runs_candidate(c))
            .flat_map(|c| c.steps.iter())
            .filter_map(|s| re.captures(&s.value))
            .map(|c| {
                let shards: usize = c[1].parse().unwrap_or(0);
                let replicas: usize = c.get(2).map_or(0, |m| m.as_str().parse().unwrap_or(0));
                shards * (1 + replicas)
            })
            .sum()
    }
}

fn parse(file: &Path) -> std::result::Result<gherkin::Feature, String> {
    let place = super::relative(file);
    // What gherkin would accept wrongly, or report at another line.
    let text = super::lint::read(file)?;
    let problems = super::lint::check(&place, &text, super::lint::Kind::Feature);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let feature = gherkin::Feature::parse_path(file, gherkin::GherkinEnv::default())
        .map_err(|e| describe_parse_error(&place, file, &e))?;
    feature
        .expand_examples()
        .map_err(|e| format!("  {place}: a Scenario Outline cannot be expanded: {e}"))
}

/// A parse error as `file:line:col`, the reason and the line as written.
fn describe_parse_error(place: &str, file: &Path, e: &gherkin::ParseFileError) -> String {
    match e {
        gherkin::ParseFileError::Reading { source, .. } => {
            format!("  {place}: cannot be read: {source}")
        }
        gherkin::ParseFileError::Parsing { source, error, .. } => {
            // The parser's error shows its position and expectations only
            // through Display: "Error at 12:5: {\"|\", ...}".
            let shown = source.to_string();
            let re = regex::Regex::new(r"^Error at (\d+):(\d+): (.*)$").expect("valid regex");
            let (line_no, col, expected) = match re.captures(&shown) {
                Some(c) => {
                    let mut items: Vec<String> = regex::Regex::new(r#""((?:[^"\\]|\\.)*)""#)
                        .expect("valid regex")
                        .captures_iter(&c[3])
                        .map(|m| m[1].replace("\\n", "end of line").to_string())
                        .collect();
                    items.sort();
                    items.dedup();
                    (
                        c[1].parse::<usize>().unwrap_or(0),
                        c[2].to_string(),
                        items.join(", "),
                    )
                }
                None => (0, "?".into(), shown.clone()),
            };
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let line = text.lines().nth(line_no.saturating_sub(1)).unwrap_or("");
            let mut msg = format!(
                "  {place}:{line_no}:{col}: cannot be parsed: expected one of {expected}\n    the line reads: {}",
                line.trim()
            );
            if let Some(env) = error {
                msg.push_str(&format!("\n    {env}"));
            }
            // The parser stops where the text stops making sense, which is
            // often a line after the mistake: look back for the likely cause.
            let culprit = text
                .lines()
                .enumerate()
                .take(line_no.max(1))
                .filter_map(|(i, l)| parse_hint(l).map(|h| (i + 1, l, h)))
                .last();
            if let Some((n, l, hint)) = culprit {
                msg.push_str(&format!(
                    "\n    probably line {n}: {}\n    hint: {hint}",
                    l.trim()
                ));
            }
            msg
        }
    }
}

pub(super) fn parse_hint(line: &str) -> Option<&'static str> {
    let t = line.trim();
    if !t.starts_with('|') {
        return None;
    }
    if !t.ends_with('|') || t.ends_with("\\|") && !t.ends_with("\\\\|") {
        Some("a table row starts and ends with |; inside a cell write \\| for a bar")
    } else if regex::Regex::new(r"\\[^|n\\]")
        .expect("valid regex")
        .is_match(t)
    {
        Some("inside a table cell, \\ escapes only |, n and \\ itself: write \\\\ for a backslash")
    } else {
        None
    }
}

fn candidates_of(feature: &gherkin::Feature, criteria: &Criteria) -> Vec<Candidate> {
    let path = feature
        .path
        .as_ref()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .unwrap_or_default();
    let plain = feature.scenarios.iter().map(|s| (None, s));
    let ruled = feature
        .rules
        .iter()
        .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s)));
    plain
        .chain(ruled)
        .map(|(rule, scenario)| {
            let raw: Vec<&String> = scenario
                .tags
                .iter()
                .chain(rule.iter().flat_map(|r| r.tags.iter()))
                .chain(feature.tags.iter())
                .collect();
            let tags: Vec<String> = raw.iter().map(|t| normalize_tag(t)).collect();
            let background = feature
                .background
                .iter()
                .chain(rule.and_then(|r| r.background.as_ref()))
                .flat_map(|b| b.steps.iter());
            let steps: Vec<gherkin::Step> =
                background.chain(scenario.steps.iter()).cloned().collect();
            let mut tags = tags;
            // A fault sentence needs the network namespace, tagged or not.
            if crate::network::scenario_states_faults(feature, rule, scenario)
                && !tags.iter().any(|t| t == crate::network::REQUIREMENT)
            {
                tags.push(crate::network::REQUIREMENT.to_string());
            }
            let mut c = Candidate {
                path: path.clone(),
                line: scenario.position.line,
                feature: feature.name.clone(),
                scenario: scenario.name.clone(),
                combination: super::combinations::label_of(&scenario.name).to_string(),
                tags,
                steps,
                selected: false,
                test_name: String::new(),
            };
            c.selected = matches(criteria, feature, &c);
            c
        })
        .collect()
}

/// Names each scenario as a test: `features/x.feature: Name`, with
/// ` [line N]` when a file has two scenarios of that name (outline rows);
/// a feature whose scenarios share servers is one test.
fn name_tests(candidates: &mut [Candidate]) {
    let shares = |c: &Candidate| {
        c.steps
            .iter()
            .any(|s| s.value.ends_with("shared by the scenarios of this feature"))
    };
    let shared: HashSet<PathBuf> = candidates
        .iter()
        .filter(|c| shares(c))
        .map(|c| c.path.clone())
        .collect();
    let mut count: std::collections::HashMap<(PathBuf, String), usize> = Default::default();
    for c in candidates.iter() {
        *count
            .entry((c.path.clone(), c.scenario.clone()))
            .or_default() += 1;
    }
    for c in candidates.iter_mut() {
        let file = super::relative(&c.path);
        c.test_name = if shared.contains(&c.path) {
            format!("{file}: (whole feature)")
        } else if count[&(c.path.clone(), c.scenario.clone())] > 1 {
            format!("{file}: {} [line {}]", c.scenario, c.line)
        } else {
            format!("{file}: {}", c.scenario)
        };
    }
}

fn matches(criteria: &Criteria, feature: &gherkin::Feature, c: &Candidate) -> bool {
    let haystacks = [
        c.scenario.to_lowercase(),
        feature.name.to_lowercase(),
        feature
            .path
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string().to_lowercase()),
    ];
    let by_filter = criteria.filters.is_empty()
        || criteria
            .filters
            .iter()
            .any(|f| haystacks.iter().any(|h| h.contains(&f.to_lowercase())));
    // Shards and exact names apply once every scenario is named.
    let by_name = criteria
        .name
        .as_ref()
        .is_none_or(|re| re.is_match(&c.scenario));
    let by_tags = criteria
        .tags
        .as_ref()
        .is_none_or(|op| op.eval(c.tags.iter()));
    by_filter && by_name && by_tags
}

/// `requires(tls)` → `requires:tls`; other tags unchanged.
pub fn normalize_tag(tag: &str) -> String {
    let tag = tag.strip_prefix('@').unwrap_or(tag);
    match tag.split_once('(') {
        Some((name, rest)) if rest.ends_with(')') && !name.is_empty() => {
            format!("{name}:{}", rest[..rest.len() - 1].trim())
        }
        _ => tag.to_string(),
    }
}

/// Rewrites `@requires(tls)` in a tag expression as `@requires:tls`, which
/// the tag-expression parser accepts, and drops the `@` of every tag, as
/// the parsed scenario tags have none.
fn normalize_expression(expr: &str) -> String {
    let re = regex::Regex::new(r"@([A-Za-z0-9_.:-]+)\(([^()\s]*)\)").expect("valid regex");
    re.replace_all(expr, "@$1:$2").into_owned()
}

/// The feature files a run reads: those the `-i` globs name, else those
/// under each path, in the order given, each once.
pub fn feature_files_of(paths: &[PathBuf], criteria: &Criteria) -> Result<Vec<PathBuf>> {
    if !criteria.inputs.is_empty() {
        return glob_files(&criteria.inputs);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        for file in feature_files(path)? {
            if seen.insert(file.canonicalize().unwrap_or_else(|_| file.clone())) {
                out.push(file);
            }
        }
    }
    Ok(out)
}

/// The feature files under `path` (or `path` itself), sorted.
pub fn feature_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !path.is_dir() {
        return Err(Error::Config {
            what: format!("the feature file or folder {} does not exist", path.display()),
            hint: "give the runner the folder that holds your .feature files (paths are relative to the crate)".into(),
        });
    }
    super::files_under(path, "feature", "the features")
}

/// The files `-i` globs name. A path without a wildcard is a feature file
/// or a folder of them, as `valkey-bdd run PATH` takes it; a glob is
/// matched from its longest folder without a wildcard, so that it may start
/// with `/` or `../`.
fn glob_files(globs: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for g in globs {
        let before = out.len();
        let (base, pattern) = split_glob(g);
        if pattern.is_empty() {
            if base.is_file() {
                out.push(base);
            } else if base.is_dir() {
                out.extend(feature_files(&base)?);
            }
        } else {
            let walker = globwalk::GlobWalkerBuilder::new(&base, &pattern)
                .build()
                .map_err(|e| Error::Config {
                    what: format!("-i {g:?} is not a glob: {e}"),
                    hint: "use a pattern such as 'features/cluster/*.feature'".into(),
                })?;
            // globwalk names files below `.` as `./x`: the same file must
            // have the same place and test name however it was chosen.
            out.extend(walker.filter_map(|e| e.ok()).map(|e| {
                let p = e.path();
                p.strip_prefix(".").unwrap_or(p).to_path_buf()
            }));
        }
        if out.len() == before {
            return Err(Error::Config {
                what: format!("-i {g:?} names no feature file"),
                hint: "a relative path or glob starts from the directory the run starts in (the crate's folder under cargo test)".into(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A glob as the folder to walk and the pattern to match below it: `.` and
/// the glob itself, but for a glob that starts with `/` or climbs with
/// `..`, its longest leading folder without a wildcard and the rest,
/// anchored there. The pattern is empty for a path without a wildcard.
fn split_glob(glob: &str) -> (PathBuf, String) {
    let path = Path::new(glob);
    let wild = |c: &std::path::Component<'_>| {
        c.as_os_str()
            .to_string_lossy()
            .contains(['*', '?', '[', '{'])
    };
    if !path.components().any(|c| wild(&c)) {
        return (path.to_path_buf(), String::new());
    }
    let climbs = path.is_absolute()
        || path
            .components()
            .any(|c| c == std::path::Component::ParentDir);
    if !climbs {
        return (PathBuf::from("."), glob.to_string());
    }
    let base: PathBuf = path.components().take_while(|c| !wild(c)).collect();
    let rest: Vec<String> = path
        .components()
        .skip_while(|c| !wild(c))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (base, format!("/{}", rest.join("/")))
}

/// Checks one tag against the server binary: `None` when the tag asks for
/// nothing, else whether the binary has it (`Err` says why not). Tags are
/// normalized (`requires:tls`).
///
/// - `@requires:tls`: built with TLS; `@requires:debug`: `DEBUG` available;
/// - `@requires:network-faults`: network faults can be made here
///   ([`crate::network::available`]); implied by any fault sentence;
/// - `@requires:<directive>`: knows a configuration directive, such as
///   `@requires:tls-auth-clients-user`;
/// - `@min-version:8.1`: at least that version;
/// - `@engine:valkey` or `@engine:redis`.
pub async fn requirement(
    tag: &str,
    binary: &ServerBinary,
) -> Option<std::result::Result<(), String>> {
    let tag = normalize_tag(tag);
    let (kind, arg) = tag.split_once(':')?;
    let what = format!(
        "{} is {} {}",
        binary.path.display(),
        binary.engine,
        binary.version_string()
    );
    match kind {
        "requires" if arg == "network-faults" => Some(
            crate::network::available()
                .await
                .map_err(|why| format!("network faults cannot be made here: {why}")),
        ),
        "requires" => {
            let ok = match arg {
                "tls" => binary.supports_tls().await,
                "debug" => binary.supports_debug().await,
                directive => binary.knows_directive(directive).await,
            };
            Some(if ok {
                Ok(())
            } else if arg == "tls" {
                Err(format!(
                    "{what}, built without TLS; set VALKEY_SERVER_PATH to a binary built with TLS"
                ))
            } else {
                Err(format!(
                    "{what}, which does not know the directive `{arg}`; set VALKEY_SERVER_PATH to a newer binary"
                ))
            })
        }
        "min-version" => {
            let mut parts = arg.split('.').map(|p| p.parse::<u32>());
            let wanted = match (parts.next(), parts.next(), parts.next()) {
                (Some(Ok(a)), b, c) => (
                    a,
                    b.and_then(|x| x.ok()).unwrap_or(0),
                    c.and_then(|x| x.ok()).unwrap_or(0),
                ),
                _ => {
                    return Some(Err(format!(
                        "@min-version:{arg} is not a version such as 8.1"
                    )));
                }
            };
            Some(if binary.version >= wanted {
                Ok(())
            } else {
                Err(format!("{what}, older than {arg}"))
            })
        }
        "engine" => Some(if binary.engine.to_string() == arg.to_ascii_lowercase() {
            Ok(())
        } else {
            Err(format!("{what}, not {arg}"))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_tags_have_one_spelling_inside() {
        assert_eq!(normalize_tag("@requires(tls)"), "requires:tls");
        assert_eq!(normalize_tag("requires:tls"), "requires:tls");
        assert_eq!(normalize_tag("@min-version(8.1)"), "min-version:8.1");
        assert_eq!(normalize_tag("serial"), "serial");
    }

    #[test]
    fn tag_expressions_accept_both_spellings() {
        for expr in [
            "@min-version(8.1)",
            "@min-version:8.1",
            "not @requires(tls) and @serial",
        ] {
            Criteria::parse_tags(expr).unwrap();
        }
        let op = Criteria::parse_tags("@min-version(8.1) and not @serial").unwrap();
        assert!(op.eval(["min-version:8.1".to_string()].iter()));
        assert!(!op.eval(["min-version:8.1".to_string(), "serial".into()].iter()));
        assert!(Criteria::parse_tags("@a and (").is_err());
    }
}
