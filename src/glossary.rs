//! The steps registered for [`ValkeyWorld`], and the glossary made from them.
//!
//! Steps are collected at link time (through `inventory`), so this module can
//! list exactly what a test binary knows. The runner uses it for its startup
//! self-check; the glossary test uses it to write `STEPS.md` from the source
//! of every step (its sentence and its doc comment), so the glossary cannot
//! drift from the code.

use cucumber::codegen::{StepConstructor, WorldInventory};
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use crate::world::ValkeyWorld;

/// One registered step.
#[derive(Debug, Clone)]
pub struct RegisteredStep {
    /// `Given`, `When` or `Then`.
    pub keyword: &'static str,
    /// The regex cucumber matches step text against.
    pub regex: Regex,
    /// The source file of the step function.
    pub path: &'static str,
    /// Its line.
    pub line: u32,
}

/// Every step registered for [`ValkeyWorld`] in this binary, in source order.
///
/// Collected and compiled once per process: the set cannot change after
/// linking, and a run asks for it more than once.
pub fn registered() -> &'static [RegisteredStep] {
    static REGISTERED: LazyLock<Vec<RegisteredStep>> = LazyLock::new(collect_registered);
    &REGISTERED
}

/// Whether a step written with `keyword` (`Given`, `When` or `Then`) and
/// `text` matches a registered sentence of that keyword: one pass of a
/// [`RegexSet`] over the text, instead of one regex after another.
pub fn is_known(keyword: &str, text: &str) -> bool {
    sets()
        .iter()
        .any(|(k, set, _)| *k == keyword && set.is_match(text))
}

/// The registered sentences of `keyword` that `text` matches, as indices
/// into [`registered`]: one pass of the keyword's [`RegexSet`], for callers
/// that must know which sentences match, not only whether one does.
pub fn matching(keyword: &str, text: &str) -> Vec<usize> {
    sets()
        .iter()
        .filter(|(k, _, _)| *k == keyword)
        .flat_map(|(_, set, of)| set.matches(text).into_iter().map(|i| of[i]))
        .collect()
}

/// Per keyword: a [`RegexSet`] of its registered steps, and for each
/// pattern of the set the step's index in [`registered`].
fn sets() -> &'static [(&'static str, RegexSet, Vec<usize>)] {
    static SETS: LazyLock<Vec<(&'static str, RegexSet, Vec<usize>)>> = LazyLock::new(|| {
        ["Given", "When", "Then"]
            .into_iter()
            .map(|keyword| {
                let of: Vec<usize> = registered()
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.keyword == keyword)
                    .map(|(i, _)| i)
                    .collect();
                let set = RegexSet::new(of.iter().map(|i| registered()[*i].regex.as_str()))
                    .expect("registered steps are valid regexes");
                (keyword, set, of)
            })
            .collect()
    });
    &SETS
}

/// The steps a run needs: every registered step that matches a step of
/// `features` (a step of a scenario outline, whose `<placeholders>` are
/// filled in only as it runs, keeps every step of its keyword).
///
/// Cucumber tries each step of a scenario against every registered regex of
/// its keyword, capturing as it goes; handing it only the steps the run can
/// use makes that search short. Nothing changes for a step: every regex that
/// matches its text is still there, so an ambiguous step is still reported.
pub fn collection_for(
    features: &[cucumber::gherkin::Feature],
) -> cucumber::step::Collection<ValkeyWorld> {
    use cucumber::gherkin::StepType;
    use std::collections::HashSet;
    let steps = registered();
    let mut used: HashSet<(&'static str, u32)> = HashSet::new();
    let mut every: HashSet<&'static str> = HashSet::new();
    let mut mark = |step: &cucumber::gherkin::Step| {
        let keyword = match step.ty {
            StepType::Given => "Given",
            StepType::When => "When",
            StepType::Then => "Then",
        };
        if step.value.contains('<') {
            every.insert(keyword);
            return;
        }
        let (_, set, of) = sets()
            .iter()
            .find(|(k, ..)| *k == keyword)
            .expect("a set per keyword");
        for i in set.matches(&step.value).iter() {
            let s = &steps[of[i]];
            used.insert((s.path, s.line));
        }
    };
    for feature in features {
        let scenarios = feature
            .scenarios
            .iter()
            .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()));
        let backgrounds = feature
            .background
            .iter()
            .chain(feature.rules.iter().filter_map(|r| r.background.as_ref()));
        for step in backgrounds
            .flat_map(|b| b.steps.iter())
            .chain(scenarios.flat_map(|s| s.steps.iter()))
        {
            mark(step);
        }
    }
    let keep = |keyword: &'static str, loc: &cucumber::step::Location| {
        every.contains(keyword) || used.contains(&(loc.path, loc.line))
    };
    let mut out = cucumber::step::Collection::new();
    for s in inventory::iter::<<ValkeyWorld as WorldInventory>::Given> {
        let (loc, regex, fun) = s.inner();
        if keep("Given", &loc) {
            out = out.given(Some(loc), regex(), fun);
        }
    }
    for s in inventory::iter::<<ValkeyWorld as WorldInventory>::When> {
        let (loc, regex, fun) = s.inner();
        if keep("When", &loc) {
            out = out.when(Some(loc), regex(), fun);
        }
    }
    for s in inventory::iter::<<ValkeyWorld as WorldInventory>::Then> {
        let (loc, regex, fun) = s.inner();
        if keep("Then", &loc) {
            out = out.then(Some(loc), regex(), fun);
        }
    }
    out
}

fn collect_registered() -> Vec<RegisteredStep> {
    fn collect<T: StepConstructor<ValkeyWorld> + inventory::Collect>(
        keyword: &'static str,
        out: &mut Vec<RegisteredStep>,
    ) {
        for s in inventory::iter::<T> {
            let (loc, regex, _) = s.inner();
            out.push(RegisteredStep {
                keyword,
                regex: regex(),
                path: loc.path,
                line: loc.line,
            });
        }
    }
    let mut out = Vec::new();
    collect::<<ValkeyWorld as WorldInventory>::Given>("Given", &mut out);
    collect::<<ValkeyWorld as WorldInventory>::When>("When", &mut out);
    collect::<<ValkeyWorld as WorldInventory>::Then>("Then", &mut out);
    out.sort_by(|a, b| (a.path, a.line).cmp(&(b.path, b.line)));
    out
}

/// Sentences the library's own vocabulary must understand. If one of them
/// matches no registered step, the library's steps were not linked into this
/// binary and every scenario would fail as "skipped"; the runner stops first.
pub const SENTINELS: &[(&str, &str)] = &[
    ("Given", "a server"),
    ("When", "I run `PING`"),
    ("Then", "the reply is \"PONG\""),
];

/// Checks that the library's steps are registered, with a message that says
/// what to do when they are not.
pub fn self_check() -> Result<usize, String> {
    let steps = registered();
    for (keyword, text) in SENTINELS {
        if !steps
            .iter()
            .any(|s| s.keyword == *keyword && s.regex.is_match(text))
        {
            return Err(format!(
                "valkey-bdd's own steps are not registered in this test binary \
                 ({} step(s) found; none matches `{keyword} {text}`).\n  \
                 hint: build the World with valkey_bdd::ValkeyWorld and start the run with valkey_bdd::run(..) \
                 or valkey_bdd::Runner, and make sure the valkey-bdd crate is linked (not only its types re-exported)",
                steps.len()
            ));
        }
    }
    Ok(steps.len())
}

/// One entry of the glossary, read from a step's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `Given`, `When` or `Then`.
    pub keyword: String,
    /// The sentence: the cucumber expression or regex as written.
    pub sentence: String,
    /// The doc comment above the step.
    pub doc: String,
    /// The steps file it comes from (`src/steps/server.rs`).
    pub file: String,
    /// The line of its attribute in that file.
    pub line: u32,
}

/// Reads the step attributes and doc comments of one steps source file.
pub fn entries_of(file: &str, source: &str) -> Vec<Entry> {
    let attr =
        Regex::new(r##"^\s*#\[(given|when|then)\((expr|regex)\s*=\s*(r#*)?"(.*)"#*\)\]\s*$"##)
            .expect("valid regex");
    let mut out = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    // rustfmt splits long attributes over lines: join them back first.
    let mut lines: Vec<(u32, String)> = Vec::new();
    let mut open: Option<(u32, String)> = None;
    for (n, line) in source.lines().enumerate() {
        let n = n as u32 + 1;
        let trimmed = line.trim();
        match open.take() {
            Some((start, mut acc)) => {
                acc.push_str(trimmed);
                if trimmed.ends_with(")]") {
                    lines.push((start, acc));
                } else {
                    open = Some((start, acc));
                }
            }
            None if ["#[given(", "#[when(", "#[then("]
                .iter()
                .any(|p| trimmed.starts_with(p))
                && !trimmed.ends_with(")]") =>
            {
                open = Some((n, trimmed.to_string()));
            }
            None => lines.push((n, line.to_string())),
        }
    }
    for (n, line) in &lines {
        let trimmed = line.trim();
        if let Some(d) = trimmed.strip_prefix("///") {
            doc.push(d.strip_prefix(' ').unwrap_or(d).to_string());
        } else if let Some(c) = attr.captures(trimmed) {
            let keyword = match &c[1] {
                "given" => "Given",
                "when" => "When",
                _ => "Then",
            };
            let raw = c[4].to_string();
            // A plain string literal escapes its quotes; a raw one does not.
            let sentence = if c.get(3).is_some() {
                raw
            } else {
                raw.replace("\\\"", "\"").replace("\\\\", "\\")
            };
            let sentence = if &c[2] == "regex" {
                sentence
                    .trim_start_matches('^')
                    .trim_end_matches('$')
                    .to_string()
            } else {
                sentence
            };
            out.push(Entry {
                keyword: keyword.to_string(),
                sentence,
                doc: doc.join(" ").trim().to_string(),
                file: file.to_string(),
                line: *n,
            });
        } else if !trimmed.starts_with("#[") {
            doc.clear();
        }
    }
    out
}

/// Renders the glossary as Markdown.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::from(
        "# Step glossary\n\n\
         Every sentence valkey-bdd understands, generated from the step definitions in `src/steps/`\n\
         (`VALKEY_BDD_BLESS=1 cargo test --test glossary` rewrites this file; the test fails when it is stale).\n\n\
         How to read a sentence:\n\n\
         - `{server}` names a server: `the server` (the scenario's default one, started by `Given a server`),\n  \
         `server \"cache\"`, `the primary`, `replica 2`, `the replica` (when there is only one), `node 3`,\n  \
         `the node that owns \"key\"`, `the primary of shard 2`, `the replica of shard 1`;\n\
         - `{command}` is a command between backticks, written as in `valkey-cli`: `` `SET \"my key\" v` ``;\n\
         - `{string}` and `\"…\"` are text in double quotes, `{int}` and `<integer>` a whole number;\n\
         - `{comparison}` is `greater than X`, `at least X`, `less than X`, `at most X`, `equal to X` or\n  \
         `between X and Y`, each bound a number or a placeholder holding one;\n\
         - `${name}` in any text (commands, quoted values, tables, doc strings, command lines) is a value the\n  \
         scenario remembered (`I remember the reply as \"name\"`) or a built-in: `${now}`, `${now_ms}`,\n  \
         `${port}`, `${host}`, `${url}` (`${port:cache}` for server \"cache\"), `${dir}`, `${cwd}` (where the run\n  \
         started: `MODULE LOAD ${cwd}/m.so`), `${client.bob.id}`, `${client.bob.name}`;\n  \
         integers take arithmetic (`${now+5}`); `$${x}` is the text `${x}`; a remembered value's name is a\n  \
         word of letters, digits and `_`, not starting with a digit (`uptime_before`), checked before any\n  \
         server starts;\n\
         - `[…]` is a part you may leave out, `a | b` a choice.\n\n\
         A sentence without a server means the default server and its own connection — or, in a scenario with\n\
         a cluster and no default server, the cluster through a cluster-aware client. Tables and doc strings\n\
         go below the sentences that end in `:`.\n",
    );
    let mut file = "";
    for (i, e) in entries.iter().enumerate() {
        // A sentence registered for several keywords is listed once.
        let same = |o: &Entry| o.sentence == e.sentence && o.file == e.file;
        if i > 0 && same(&entries[i - 1]) {
            continue;
        }
        if e.file != file {
            file = &e.file;
            out.push_str(&format!("\n## {}\n\n", title_of(file)));
        }
        let keywords: Vec<&str> = entries[i..]
            .iter()
            .take_while(|o| same(o))
            .map(|o| o.keyword.as_str())
            .collect();
        out.push_str(&format!(
            "- **{}** `` {} ``",
            keywords.join(" / "),
            readable(&e.sentence)
        ));
        if !e.doc.is_empty() {
            out.push_str(&format!(" — {}", e.doc));
        }
        out.push('\n');
    }
    out
}

/// The sentence a registered step's regex stands for, with cucumber
/// parameters shown by name (`{server}`, `{string}`): what a reader writes.
pub fn sentence_of(regex: &Regex) -> String {
    let src = regex.as_str().trim_start_matches('^').trim_end_matches('$');
    let numbered = Regex::new(r"__\d+_(\d)").expect("valid regex");
    let mut s = numbered.replace_all(src, "__N_$1").into_owned();
    let param = |regex: &str| format!("({regex})");
    let server = param(<crate::steps::ServerRef as cucumber::Parameter>::REGEX);
    let command = param(<crate::steps::CommandLine as cucumber::Parameter>::REGEX);
    let comparison = param(<crate::steps::CompareTo as cucumber::Parameter>::REGEX);
    for (from, to) in [
        (
            r#"(?:"(?P<__N_0>[^"\\]*(?:\\.[^"\\]*)*)"|'(?P<__N_1>[^'\\]*(?:\\.[^'\\]*)*)')"#,
            "{string}",
        ),
        (server.as_str(), "{server}"),
        (command.as_str(), "{command}"),
        (comparison.as_str(), "{comparison}"),
        (r"((?:-?\d+)|(?:\d+))", "{int}"),
    ] {
        s = s.replace(from, to);
    }
    readable(&s)
}

/// Turns a step's regex into the sentence a reader writes.
pub fn readable(sentence: &str) -> String {
    let mut s = sentence.to_string();
    for (from, to) in [
        (
            r#"(?:the server|server "([^"]+)")"#,
            r#"the server | server "…""#,
        ),
        (r#""([^"]+)""#, r#""…""#),
        (r#""([^"]*)""#, r#""…""#),
        (r#""(.*)""#, r#""…""#),
        (r#"(".*")"#, r#""…""#),
        ("`(.+)`", "`…`"),
        (r"(-?\d+)", "<integer>"),
        (r"(\d+)", "<integer>"),
        ("/(.*)/", "/<regex>/"),
    ] {
        s = s.replace(from, to);
    }
    // Optional parts `(?: x)?` and `( x)?`, then choices `(a|b)`.
    let optional = Regex::new(r"\((?:\?:)?( ?)([^()]*)\)\?").expect("valid regex");
    s = optional.replace_all(&s, "$1[$2]").into_owned();
    let choice = Regex::new(r"\(([^()?]*\|[^()]*)\)").expect("valid regex");
    s = choice
        .replace_all(&s, |c: &regex::Captures<'_>| c[1].replace('|', " | "))
        .into_owned();
    s.replace("replicas?", "replica(s)")
        .replace("shards?", "shard(s)")
}

fn title_of(file: &str) -> String {
    let stem = std::path::Path::new(file)
        .file_stem()
        .map_or(file.to_string(), |s| s.to_string_lossy().into_owned());
    let mut c = stem.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => stem,
    }
}
