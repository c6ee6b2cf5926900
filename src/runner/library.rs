//! Steps defined in Gherkin: step libraries (`*.steps` files) that make new
//! sentences out of existing ones, for suites written without Rust.
//!
//! ```gherkin
//! Step: a bloom filter "{name}" with error rate {rate} and capacity {n}
//!   Reserves an empty filter; fails when the name is taken.
//!   When I run `BF.RESERVE {name} {rate} {n}`
//!   Then the reply is "OK"
//! ```
//!
//! A library is read like a feature whose scenarios are `Step:` blocks: the
//! block's title is the sentence, with `{parameters}`; the text under it
//! (before the first step) is its description; its steps are what it does.
//! Definitions are expanded when the features are parsed: a step that
//! matches a definition is replaced by the definition's steps, parameters
//! substituted, at the user's line, so they run through the normal
//! vocabulary and report that line. `${name}` stays the world's placeholder.
//!
//! Everything that can be checked before a server starts is checked when the
//! libraries load, with `file:line`: an inner sentence nobody knows, a
//! definition that calls itself (directly or not), a parameter declared and
//! never used or used and never declared, a sentence defined twice or one the
//! built-in vocabulary already has.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use cucumber::gherkin;
use regex::Regex;

use crate::error::{Error, Result};
use crate::glossary::RegisteredStep;

/// The extension of step library files.
pub const EXTENSION: &str = "steps";

/// How deep definitions may call definitions.
pub const MAX_DEPTH: usize = 8;

/// One sentence defined in a step library.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The sentence as written, with its `{parameters}`.
    pub sentence: String,
    /// The parameters, in order.
    pub params: Vec<String>,
    /// What the sentence matches: its text with each parameter as `(.+?)`
    /// (between quotes: any text without an unescaped quote).
    pub regex: Regex,
    /// The steps it stands for, as written (parameters unsubstituted).
    pub steps: Vec<gherkin::Step>,
    /// Its description: the text between the `Step:` line and its steps.
    pub doc: String,
    /// The library file.
    pub file: PathBuf,
    /// The line of its `Step:`.
    pub line: usize,
}

impl Definition {
    /// `steps/bloom.steps:3`.
    pub fn place(&self) -> String {
        format!("{}:{}", super::relative(&self.file), self.line)
    }
}

/// The step libraries of a run.
#[derive(Debug, Clone, Default)]
pub struct Library {
    /// Every definition, in file order.
    pub definitions: Vec<Definition>,
}

/// A step written by the user that a definition replaced: what to say when
/// one of its inner steps fails or matches no sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The user's step as written: `Then reading "k" gives "two"`.
    pub step: String,
    /// The definition's sentence, with its `{parameters}`.
    pub sentence: String,
    /// Where the definition is: `steps/keys.steps:9`.
    pub defined_at: String,
    /// Each parameter with the value the user's step gave it.
    pub args: Vec<(String, String)>,
    /// The steps it became, in order: each as it runs (keyword and text),
    /// with the step of the definition it was made from (`file:line`) and
    /// the parameters that step uses.
    pub inner: Vec<Inner>,
}

/// One step a [`Call`] became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inner {
    /// Keyword and text, parameters substituted: `Then the reply is "two"`.
    pub step: String,
    /// The step of the called definition it comes from: `steps/keys.steps:12`
    /// (a step of a nested definition comes from the step that calls it).
    pub place: String,
    /// The parameters of the called definition that step uses.
    pub params: Vec<String>,
}

impl std::fmt::Display for Call {
    /// `Then reading "k" gives "two" (defined at steps/keys.steps:9)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (defined at {})", self.step, self.defined_at)
    }
}

impl Call {
    /// The arguments an inner step (as it runs) was made from, as
    /// `{n} = "one"`; empty when it uses none.
    pub fn arguments_of(&self, inner: &str) -> Vec<String> {
        self.inner
            .iter()
            .find(|i| i.step == inner)
            .into_iter()
            .flat_map(|i| &i.params)
            .filter_map(|p| self.args.iter().find(|(name, _)| name == p))
            .map(|(p, v)| format!("{{{p}}} = \"{v}\""))
            .collect()
    }

    /// The step of the definition an inner step comes from.
    pub fn place_of(&self, inner: &str) -> Option<&str> {
        self.inner
            .iter()
            .find(|i| i.step == inner)
            .map(|i| i.place.as_str())
    }
}

/// The calls of a run's features, by `(feature file, line)` of the user's
/// step.
pub type Calls = HashMap<(PathBuf, usize), Call>;

impl Library {
    /// Finds and reads the step libraries for features under `roots`: every
    /// `*.steps` file below a root, and `steps/*.steps` in each folder from
    /// a root up to the current directory; then every file or folder of
    /// `extra` (`--steps`, `VALKEY_BDD_STEPS`).
    pub fn discover(roots: &[PathBuf], extra: &[PathBuf]) -> Result<Library> {
        let mut files = Vec::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        for root in roots {
            let root = std::path::absolute(root).unwrap_or_else(|_| root.clone());
            if root.is_dir() {
                files.extend(files_under(&root)?);
            }
            let start = if root.is_dir() {
                Some(root.as_path())
            } else {
                root.parent()
            };
            let mut dir = start;
            while let Some(d) = dir {
                let steps = d.join("steps");
                if steps.is_dir() && !steps.starts_with(&root) {
                    files.extend(files_under(&steps)?);
                }
                if d == cwd || !d.starts_with(&cwd) {
                    break;
                }
                dir = d.parent();
            }
        }
        for path in extra {
            if path.is_dir() {
                files.extend(files_under(path)?);
            } else if path.is_file() {
                files.push(path.clone());
            } else {
                return Err(Error::Config {
                    what: format!("the step library {} does not exist", path.display()),
                    hint: "--steps and VALKEY_BDD_STEPS name *.steps files or folders holding them"
                        .into(),
                });
            }
        }
        let mut seen = std::collections::HashSet::new();
        files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
        Library::read(&files)
    }

    /// Reads these library files. A file that cannot be parsed, or a block
    /// that is not a `Step:`, stops the run with its place.
    pub fn read(files: &[PathBuf]) -> Result<Library> {
        let mut definitions = Vec::new();
        let mut errors = Vec::new();
        for file in files {
            match read_file(file) {
                Ok(mut d) => definitions.append(&mut d),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            return Err(load_error(errors));
        }
        Ok(Library { definitions })
    }

    /// Checks the definitions against the vocabulary: every inner sentence
    /// is known, no definition calls itself, no sentence is defined twice or
    /// shadows a built-in one, and parameters are declared and used.
    pub fn check(&self, vocabulary: &[RegisteredStep]) -> Result<()> {
        let mut errors = Vec::new();
        for (i, d) in self.definitions.iter().enumerate() {
            let samples = samples_of(&d.sentence);
            if let Some(b) = vocabulary
                .iter()
                .find(|s| samples.iter().any(|t| s.regex.is_match(t)))
            {
                errors.push(format!(
                    "  {}: \"{}\" is already a built-in sentence: {} {}\n    give the definition another wording",
                    d.place(),
                    d.sentence,
                    b.keyword,
                    crate::glossary::sentence_of(&b.regex)
                ));
            }
            if let Some((o, text)) = self.definitions[..i]
                .iter()
                .find_map(|o| samples.iter().find(|t| o.regex.is_match(t)).map(|t| (o, t)))
            {
                errors.push(format!(
                    "  {}: \"{}\" is defined twice: {} defines \"{}\" first, and both match the step \"{text}\"\n    keep one of them, or word them apart",
                    d.place(),
                    d.sentence,
                    o.place(),
                    o.sentence
                ));
            }
            for step in &d.steps {
                let line = step.position.line;
                for used in params_in(step) {
                    if !d.params.contains(&used) {
                        errors.push(format!(
                            "  {}:{line}: {{{used}}} is not a parameter of \"{}\" (it has {})\n    declare it in the sentence, or write ${{{used}}} for a remembered value",
                            super::relative(&d.file),
                            d.sentence,
                            list(&d.params)
                        ));
                    }
                }
                let misnamed = super::names::problems(step);
                for problem in &misnamed {
                    errors.push(format!(
                        "  {}:{line}: {}{}: {problem}",
                        super::relative(&d.file),
                        step.keyword,
                        step.value
                    ));
                }
                let texts = samples_of(&step.value);
                let known = !misnamed.is_empty()
                    || vocabulary.iter().any(|s| {
                        s.keyword == keyword_of(step) && texts.iter().any(|t| s.regex.is_match(t))
                    })
                    || self.callee(&texts).is_some();
                if !known {
                    errors.push(format!(
                        "  {}:{line}: {}{} (inside \"{}\") matches no sentence\n    closest known sentences:\n{}",
                        super::relative(&d.file),
                        step.keyword,
                        step.value,
                        d.sentence,
                        super::unknown::closest(
                            keyword_of(step),
                            &step.value,
                            vocabulary,
                            &self.sentences()
                        )
                    ));
                }
            }
            let used: Vec<String> = d.steps.iter().flat_map(params_in).collect();
            for p in &d.params {
                if !used.contains(p) {
                    errors.push(format!(
                        "  {}: \"{}\" declares {{{p}}}, which none of its steps uses\n    use it in a step, or take it out of the sentence",
                        d.place(),
                        d.sentence
                    ));
                }
            }
            if let Some(cycle) = self.cycle_from(i) {
                errors.push(format!(
                    "  {}: \"{}\" calls itself: {}\n    a defined step may use other definitions, but never itself",
                    d.place(),
                    d.sentence,
                    cycle
                ));
            } else if self.depth(i, 0) > MAX_DEPTH {
                errors.push(format!(
                    "  {}: \"{}\" nests definitions more than {MAX_DEPTH} deep",
                    d.place(),
                    d.sentence
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(load_error(errors))
        }
    }

    /// The defined sentences, as a reader writes them.
    pub fn sentences(&self) -> Vec<String> {
        self.definitions
            .iter()
            .map(|d| d.sentence.clone())
            .collect()
    }

    /// Replaces, in every scenario and background of `feature`, each step
    /// that matches a definition by the definition's steps. Returns what to
    /// report when an inner step fails, by the user's line.
    pub fn expand(&self, feature: &mut gherkin::Feature) -> std::result::Result<Calls, String> {
        let mut calls = Calls::new();
        if self.definitions.is_empty() {
            return Ok(calls);
        }
        let path = feature
            .path
            .as_ref()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .unwrap_or_default();
        let mut errors = Vec::new();
        let mut expand = |steps: &mut Vec<gherkin::Step>| {
            let mut out = Vec::with_capacity(steps.len());
            for step in steps.drain(..) {
                match self.expand_step(&step, 0) {
                    Ok(None) => out.push(step),
                    Ok(Some(expanded)) => {
                        let d = expanded.definition;
                        let inner = expanded
                            .steps
                            .iter()
                            .map(|(s, from)| {
                                let template = &d.steps[*from];
                                Inner {
                                    step: format!("{}{}", s.keyword, s.value),
                                    place: format!(
                                        "{}:{}",
                                        super::relative(&d.file),
                                        template.position.line
                                    ),
                                    params: params_in(template),
                                }
                            })
                            .collect();
                        calls.insert(
                            (path.clone(), step.position.line),
                            Call {
                                step: format!("{}{}", step.keyword, step.value),
                                sentence: d.sentence.clone(),
                                defined_at: d.place(),
                                args: expanded.args,
                                inner,
                            },
                        );
                        out.extend(expanded.steps.into_iter().map(|(s, _)| s));
                    }
                    Err(e) => errors.push(format!(
                        "  {}:{}: {}{}: {e}",
                        super::relative(&path),
                        step.position.line,
                        step.keyword,
                        step.value
                    )),
                }
            }
            *steps = out;
        };
        if let Some(b) = &mut feature.background {
            expand(&mut b.steps);
        }
        for s in &mut feature.scenarios {
            expand(&mut s.steps);
        }
        for r in &mut feature.rules {
            if let Some(b) = &mut r.background {
                expand(&mut b.steps);
            }
            for s in &mut r.scenarios {
                expand(&mut s.steps);
            }
        }
        if errors.is_empty() {
            Ok(calls)
        } else {
            Err(errors.join("\n"))
        }
    }

    /// The inner steps of `step` when it calls a definition, each at the
    /// caller's position, parameters substituted and definitions inside
    /// expanded in turn.
    fn expand_step(
        &self,
        step: &gherkin::Step,
        depth: usize,
    ) -> std::result::Result<Option<Expanded<'_>>, String> {
        let Some((d, caps)) = self
            .definitions
            .iter()
            .find_map(|d| d.regex.captures(&step.value).map(|c| (d, c)))
        else {
            return Ok(None);
        };
        if depth >= MAX_DEPTH {
            return Err(format!(
                "definitions nest more than {MAX_DEPTH} deep at \"{}\"",
                d.sentence
            ));
        }
        if step.table.is_some() || step.docstring.is_some() {
            return Err(format!(
                "\"{}\" ({}) is a defined step: it takes no table or doc string",
                d.sentence,
                d.place()
            ));
        }
        let values: HashMap<&str, &str> = d
            .params
            .iter()
            .zip(caps.iter().skip(1))
            .map(|(p, c)| (p.as_str(), c.map_or("", |m| m.as_str())))
            .collect();
        let mut out = Vec::new();
        for (from, inner) in d.steps.iter().enumerate() {
            let mut s = inner.clone();
            s.value = substitute(&s.value, &values);
            s.docstring = s.docstring.map(|t| substitute(&t, &values));
            if let Some(t) = &mut s.table {
                for cell in t.rows.iter_mut().flatten() {
                    *cell = substitute(cell, &values);
                }
            }
            s.position = step.position;
            s.span = step.span;
            match self.expand_step(&s, depth + 1)? {
                Some(nested) => out.extend(nested.steps.into_iter().map(|(n, _)| (n, from))),
                None => out.push((s, from)),
            }
        }
        let args = d
            .params
            .iter()
            .map(|p| (p.clone(), values.get(p.as_str()).unwrap_or(&"").to_string()))
            .collect();
        Ok(Some(Expanded {
            steps: out,
            definition: d,
            args,
        }))
    }

    /// The definition one of these texts calls.
    fn callee(&self, texts: &[String]) -> Option<usize> {
        self.definitions
            .iter()
            .position(|d| texts.iter().any(|t| d.regex.is_match(t)))
    }

    /// The definitions definition `i` calls directly.
    fn callees(&self, i: usize) -> Vec<usize> {
        self.definitions[i]
            .steps
            .iter()
            .filter_map(|s| self.callee(&samples_of(&s.value)))
            .collect()
    }

    /// `A (file:line) → B (file:line) → A` when `i` reaches itself.
    fn cycle_from(&self, i: usize) -> Option<String> {
        let mut path = vec![i];
        self.search(i, &mut path).then(|| {
            path.iter()
                .map(|&k| {
                    let d = &self.definitions[k];
                    format!("\"{}\" ({})", d.sentence, d.place())
                })
                .collect::<Vec<_>>()
                .join(" → ")
        })
    }

    fn search(&self, target: usize, path: &mut Vec<usize>) -> bool {
        let last = *path.last().unwrap_or(&target);
        for next in self.callees(last) {
            if next == target {
                path.push(next);
                return true;
            }
            if path.contains(&next) || path.len() > self.definitions.len() {
                continue;
            }
            path.push(next);
            if self.search(target, path) {
                return true;
            }
            path.pop();
        }
        false
    }

    fn depth(&self, i: usize, at: usize) -> usize {
        if at > MAX_DEPTH {
            return at;
        }
        self.callees(i)
            .into_iter()
            .map(|c| self.depth(c, at + 1))
            .max()
            .unwrap_or(at + 1)
    }
}

/// A step that called a definition, once expanded.
struct Expanded<'a> {
    /// The steps it became, each with the index of the definition's step it
    /// comes from.
    steps: Vec<(gherkin::Step, usize)>,
    definition: &'a Definition,
    /// Each parameter, in order, with its value.
    args: Vec<(String, String)>,
}

fn load_error(errors: Vec<String>) -> Error {
    Error::Unknown {
        what: format!(
            "{} problem(s) in the step libraries:\n{}",
            errors.len(),
            errors.join("\n")
        ),
        hint: "a step library is a *.steps file of `Step: sentence with {parameters}` blocks, each followed by the steps it stands for (docs/src/modules-without-rust.md: \"For module authors who do not write Rust\")".into(),
    }
}

/// The `*.steps` files under `dir`, sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    super::files_under(dir, EXTENSION, "the step libraries")
}

/// Reads one library: its text becomes a feature whose scenarios are the
/// `Step:` blocks, one line down (the `Feature:` line put in front).
fn read_file(file: &Path) -> std::result::Result<Vec<Definition>, Vec<String>> {
    let place = super::relative(file);
    let text = super::lint::read(file).map_err(|e| vec![e])?;
    let problems = super::lint::check(&place, &text, super::lint::Kind::Library);
    if !problems.is_empty() {
        return Err(problems);
    }
    let block = Regex::new(r"(?m)^(\s*)Step:").expect("valid regex");
    let as_feature = format!(
        "Feature: step library\n{}",
        block.replace_all(&text, "${1}Scenario:")
    );
    let feature = gherkin::Feature::parse(&as_feature, gherkin::GherkinEnv::default())
        .map_err(|e| vec![describe(&place, &text, &e.to_string())])?;
    let mut errors = Vec::new();
    if feature.background.is_some() || !feature.rules.is_empty() {
        errors.push(format!(
            "  {place}: a step library holds `Step:` blocks only (no Background or Rule)"
        ));
    }
    let mut out = Vec::new();
    for s in &feature.scenarios {
        let line = s.position.line - 1;
        if s.keyword.trim() != "Scenario" || !s.examples.is_empty() {
            errors.push(format!(
                "  {place}:{line}: a step library holds `Step:` blocks only, not {}",
                s.keyword.trim()
            ));
            continue;
        }
        let sentence = s.name.trim().to_string();
        let params = params_of(&sentence);
        let mut seen = Vec::new();
        for p in &params {
            if seen.contains(p) {
                errors.push(format!(
                    "  {place}:{line}: \"{sentence}\" declares {{{p}}} twice; give each parameter its own name"
                ));
            }
            seen.push(p.clone());
        }
        if sentence.is_empty() || s.steps.is_empty() {
            errors.push(format!(
                "  {place}:{line}: `Step: {sentence}` needs a sentence and at least one step under it"
            ));
            continue;
        }
        let mut steps = s.steps.clone();
        for step in &mut steps {
            step.position.line -= 1;
        }
        out.push(Definition {
            regex: regex_of(&sentence),
            sentence,
            params,
            steps,
            doc: s
                .description
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            file: file.to_path_buf(),
            line,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A parse error of a library, at the library's own line numbers.
fn describe(place: &str, text: &str, error: &str) -> String {
    let re = Regex::new(r"Error at (\d+):(\d+)").expect("valid regex");
    match re.captures(error) {
        Some(c) => {
            let line = c[1].parse::<usize>().unwrap_or(1).saturating_sub(1).max(1);
            let mut msg = format!(
                "  {place}:{line}:{}: cannot be parsed: {error}\n    the line reads: {}",
                &c[2],
                text.lines().nth(line - 1).unwrap_or("").trim()
            );
            // The parser stops after the mistake: look back for its cause.
            let culprit = text
                .lines()
                .enumerate()
                .take(line)
                .filter_map(|(i, l)| super::select::parse_hint(l).map(|h| (i + 1, l, h)))
                .last();
            if let Some((n, l, hint)) = culprit {
                msg.push_str(&format!(
                    "\n    probably line {n}: {}\n    hint: {hint}",
                    l.trim()
                ));
            }
            msg
        }
        None => format!("  {place}: cannot be parsed: {error}"),
    }
}

fn param_regex() -> Regex {
    Regex::new(r"(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}").expect("valid regex")
}

/// The `{parameters}` of a text, in order (`${remembered}` values are not).
fn params_of(text: &str) -> Vec<String> {
    param_regex()
        .captures_iter(text)
        .filter(|c| c[1].is_empty())
        .map(|c| c[2].to_string())
        .collect()
}

/// The parameters a step uses: in its text, doc string and table.
fn params_in(step: &gherkin::Step) -> Vec<String> {
    let mut out = params_of(&step.value);
    if let Some(d) = &step.docstring {
        out.extend(params_of(d));
    }
    for cell in step.table.iter().flat_map(|t| t.rows.iter().flatten()) {
        out.extend(params_of(cell));
    }
    out
}

fn substitute(text: &str, values: &HashMap<&str, &str>) -> String {
    param_regex()
        .replace_all(text, |c: &regex::Captures<'_>| match values.get(&c[2]) {
            Some(v) if c[1].is_empty() => v.to_string(),
            _ => c[0].to_string(),
        })
        .into_owned()
}

/// The sentence as an anchored regex, each parameter `(.+?)`; a parameter
/// between quotes (`"{name}"`) takes no quote but an escaped one (`\"`), as
/// a built-in `"…"` does, so that `a thing "{a}"` does not swallow `a thing
/// "{a}" and the arguments "{b}"`.
fn regex_of(sentence: &str) -> Regex {
    let mut out = String::from("^");
    let mut last = 0;
    for c in param_regex().captures_iter(sentence) {
        let m = c.get(0).expect("whole match");
        if !c[1].is_empty() {
            continue;
        }
        out.push_str(&regex::escape(&sentence[last..m.start()]));
        let quoted = sentence[..m.start()].ends_with('"') && sentence[m.end()..].starts_with('"');
        out.push_str(if quoted {
            r#"((?:[^"\\]|\\.)*)"#
        } else {
            "(.+?)"
        });
        last = m.end();
    }
    out.push_str(&regex::escape(&sentence[last..]));
    out.push('$');
    Regex::new(&out).expect("escaped text with groups is a valid regex")
}

/// The text with every parameter replaced by a sample value, one variant per
/// kind of value a sentence's parameter commonly stands for.
fn samples_of(text: &str) -> Vec<String> {
    ["1", "x", "the server"]
        .iter()
        .map(|v| {
            param_regex()
                .replace_all(text, |c: &regex::Captures<'_>| {
                    if c[1].is_empty() {
                        v.to_string()
                    } else {
                        c[0].to_string()
                    }
                })
                .into_owned()
        })
        .collect()
}

fn keyword_of(step: &gherkin::Step) -> &'static str {
    match step.ty {
        gherkin::StepType::Given => "Given",
        gherkin::StepType::When => "When",
        gherkin::StepType::Then => "Then",
    }
}

fn list(params: &[String]) -> String {
    if params.is_empty() {
        "none".into()
    } else {
        params
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The library as Markdown, for `valkey-bdd steps`: each sentence with its
/// description and place, by file.
pub fn render(library: &Library) -> String {
    let mut by_file: BTreeMap<String, Vec<&Definition>> = BTreeMap::new();
    for d in &library.definitions {
        by_file.entry(super::relative(&d.file)).or_default().push(d);
    }
    let mut out = String::new();
    for (file, defs) in by_file {
        out.push_str(&format!("\n## {file}\n\n"));
        for d in defs {
            out.push_str(&format!("- **Given / When / Then** `` {} ``", d.sentence));
            if !d.doc.is_empty() {
                out.push_str(&format!(" — {}", d.doc));
            }
            out.push_str(&format!(" ({}:{})\n", file, d.line));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_matches_its_values_and_keeps_remembered_placeholders() {
        let re = regex_of("a bloom filter \"{name}\" of {n} items (${unit})");
        let c = re
            .captures("a bloom filter \"f 1\" of 10 items (${unit})")
            .unwrap();
        assert_eq!((&c[1], &c[2]), ("f 1", "10"));
        assert_eq!(params_of("`GET {k}` ${x} {v}"), ["k", "v"]);
        let values = HashMap::from([("k", "key")]);
        assert_eq!(
            substitute("`GET {k}` ${k} {z}", &values),
            "`GET key` ${k} {z}"
        );
    }
}
