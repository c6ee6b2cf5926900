//! The run's roles ([`crate::servo`]): the roles file of each feature, the
//! `And`/`But` steps that keep the role of the step before them (written
//! into the explicit `the "<role>" process ...` form as the features are
//! read), and the check, before any server starts, that every role sentence
//! of the selected scenarios is one its servos serve.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cucumber::gherkin;

use super::select::Gate;
use crate::error::{Error, Result};
use crate::glossary;
use crate::servo::{self, Combination, Roles, Sentence};

/// The roles file of each feature file that has one.
#[derive(Debug, Clone, Default)]
pub struct RunRoles {
    by_feature: HashMap<PathBuf, Arc<Roles>>,
}

impl RunRoles {
    /// Finds the roles file of every feature the gate read: `roles.toml`
    /// in the feature's folder or the nearest folder above it (not above
    /// the current directory, for a feature below it). A roles file that
    /// cannot be read stops the run.
    pub fn find(gate: &Gate) -> Result<RunRoles> {
        let cwd = std::env::current_dir().ok();
        let mut loaded: HashMap<PathBuf, Arc<Roles>> = HashMap::new();
        let mut by_feature = HashMap::new();
        for feature in &gate.features {
            let Some(path) = &feature.path else { continue };
            let path = canonical(path);
            let Some(file) = nearest_roles_file(&path, cwd.as_deref()) else {
                continue;
            };
            let roles = match loaded.get(&file) {
                Some(r) => r.clone(),
                None => {
                    let r = Arc::new(Roles::load(&file)?);
                    loaded.insert(file, r.clone());
                    r
                }
            };
            by_feature.insert(path, roles);
        }
        Ok(RunRoles { by_feature })
    }

    /// The roles file of a feature.
    pub fn for_feature(&self, path: Option<&Path>) -> Option<Arc<Roles>> {
        self.by_feature.get(&canonical(path?)).cloned()
    }

    /// Whether any feature has a roles file.
    pub fn is_empty(&self) -> bool {
        self.by_feature.is_empty()
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

fn nearest_roles_file(feature: &Path, cwd: Option<&Path>) -> Option<PathBuf> {
    let below_cwd = cwd.is_some_and(|c| feature.starts_with(c));
    for dir in feature.ancestors().skip(1) {
        let file = dir.join(servo::roles::FILE_NAME);
        if file.is_file() {
            return Some(file);
        }
        if below_cwd && Some(dir) == cwd {
            break;
        }
    }
    None
}

/// Writes every `And`/`But` step that keeps a role into the explicit form,
/// in the features and in the gate's candidates alike.
pub fn rewrite(gate: &mut Gate, roles: &RunRoles) {
    if roles.is_empty() {
        return;
    }
    let mut rewritten: HashMap<(PathBuf, usize), String> = HashMap::new();
    for feature in &mut gate.features {
        let Some(r) = roles.for_feature(feature.path.as_deref()) else {
            continue;
        };
        let path = feature.path.as_deref().map(canonical).unwrap_or_default();
        let mut each = |steps: &mut Vec<gherkin::Step>| {
            for (line, value) in keep_roles(steps, &r) {
                rewritten.insert((path.clone(), line), value);
            }
        };
        if let Some(b) = &mut feature.background {
            each(&mut b.steps);
        }
        for s in &mut feature.scenarios {
            each(&mut s.steps);
        }
        for rule in &mut feature.rules {
            if let Some(b) = &mut rule.background {
                each(&mut b.steps);
            }
            for s in &mut rule.scenarios {
                each(&mut s.steps);
            }
        }
    }
    for c in &mut gate.candidates {
        for step in &mut c.steps {
            if let Some(v) = rewritten.get(&(c.path.clone(), step.position.line)) {
                step.value = v.clone();
            }
        }
    }
}

/// The continuation rule on one list of steps; returns the steps changed
/// (line, new text).
fn keep_roles(steps: &mut [gherkin::Step], roles: &Roles) -> Vec<(usize, String)> {
    let mut changed = Vec::new();
    let mut current: Option<String> = None;
    for step in steps {
        if let Some((role, _)) = servo::role_of(&step.value) {
            current = roles.role(role).map(|_| role.to_string());
            continue;
        }
        let continues = matches!(step.keyword.trim(), "And" | "But");
        match &current {
            Some(role) if continues && !glossary::is_known(keyword_of(step), &step.value) => {
                step.value = format!("the \"{role}\" process {}", step.value);
                changed.push((step.position.line, step.value.clone()));
            }
            _ => current = None,
        }
    }
    changed
}

fn keyword_of(step: &gherkin::Step) -> &'static str {
    match step.ty {
        gherkin::StepType::Given => "Given",
        gherkin::StepType::When => "When",
        gherkin::StepType::Then => "Then",
    }
}

/// Asks every implementation of every role the selected scenarios name
/// whether it serves their sentences, before any server starts. A role
/// step of a feature without a roles file, of a role its file does not
/// declare, or that an implementation does not match fails the run with
/// `file:line`.
pub async fn check(gate: &Gate, roles: &RunRoles, tmp_root: &Path) -> Result<()> {
    let mut by_file: BTreeMap<PathBuf, (Arc<Roles>, Vec<Sentence>)> = BTreeMap::new();
    let mut orphans = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in gate.selected() {
        for step in &c.steps {
            let Some((role, rest)) = servo::role_of(&step.value) else {
                continue;
            };
            if rest.contains("${") {
                // Its placeholders are filled in as it runs: the servo
                // says then whether it knows it.
                continue;
            }
            if !seen.insert((c.path.clone(), step.position.line)) {
                continue;
            }
            let place = format!("{}:{}", super::relative(&c.path), step.position.line);
            let written = format!("{}{}", step.keyword, step.value);
            match roles.for_feature(Some(&c.path)) {
                None => orphans.push(format!(
                    "  {place}  {written}\n    names the role \"{role}\", and no {} lies beside the feature or above it",
                    servo::roles::FILE_NAME
                )),
                Some(r) => by_file
                    .entry(r.file.clone())
                    .or_insert_with(|| (r.clone(), Vec::new()))
                    .1
                    .push(Sentence {
                        role: role.to_string(),
                        rest: rest.to_string(),
                        place,
                        step: written,
                    }),
            }
        }
    }
    if !orphans.is_empty() {
        return Err(Error::Unknown {
            what: format!(
                "{} step(s) name a role, and no roles file declares it:\n{}",
                orphans.len(),
                orphans.join("\n")
            ),
            hint: "declare the application's roles in roles.toml in the features' folder: [roles.<role>] with <implementation> = \"<command>\" (docs/src/servos/protocol.md: \"The roles file\")".into(),
        });
    }
    if by_file.is_empty() {
        return Ok(());
    }
    let dir = crate::leftovers::tempdir(
        tmp_root,
        "valkey-bdd-servos-",
        crate::leftovers::Kind::Scenario,
    )
    .map_err(|e| Error::io(format!("creating a directory in {}", tmp_root.display()), e))?;
    for (roles, sentences) in by_file.into_values() {
        servo::discover(&roles, &sentences, false, dir.path()).await?;
    }
    Ok(())
}

/// The roles files for features under `paths` (every `roles.toml` below a
/// folder, and the nearest one above each path), each role's sentences as
/// its servos serve them, in Markdown, for `valkey-bdd steps`. Every
/// implementation is started and asked.
pub async fn render_roles(paths: &[PathBuf]) -> Result<String> {
    let cwd = std::env::current_dir().ok();
    let mut files = std::collections::BTreeSet::new();
    for path in paths {
        let path = canonical(path);
        if path.is_dir() {
            files.extend(
                super::files_under(&path, "toml", "the roles files")?
                    .into_iter()
                    .filter(|f| f.file_name().is_some_and(|n| n == servo::roles::FILE_NAME)),
            );
        }
        // The nearest one above (the path's own folder included).
        if let Some(f) = nearest_roles_file(&path.join("x"), cwd.as_deref()) {
            files.insert(f);
        }
    }
    let mut out = String::new();
    if files.is_empty() {
        return Ok(out);
    }
    let dir = crate::leftovers::tempdir(
        &crate::settings::tmp_root(),
        "valkey-bdd-servos-",
        crate::leftovers::Kind::Scenario,
    )
    .map_err(|e| Error::io("creating a directory for the servos", e))?;
    for file in files {
        let roles = Roles::load(&file)?;
        out.push_str(&format!(
            "# Sentences of the roles of {}\n",
            servo::relative(&file)
        ));
        for d in servo::discover(&roles, &[], true, dir.path()).await? {
            out.push_str(&format!(
                "\n## the \"{}\" process — {} ({})\n\n",
                d.role, d.implementation, d.name
            ));
            for p in &d.patterns {
                out.push_str(&format!("- `` the \"{}\" process {} ``", d.role, p.pattern));
                if !p.description.is_empty() {
                    out.push_str(&format!(" — {}", p.description));
                }
                out.push('\n');
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// The combination a scenario's name carries (`Orders flow [consumer=node,
/// producer=python]`); empty when it carries none.
pub fn combination_of(name: &str) -> Combination {
    let mut out = Combination::new();
    let Some(inner) = name
        .strip_suffix(']')
        .and_then(|n| n.rsplit_once(" ["))
        .map(|(_, inner)| inner)
    else {
        return out;
    };
    for pair in inner.split(", ") {
        match pair.split_once('=') {
            Some((role, implementation)) => {
                out.insert(role.to_string(), implementation.to_string());
            }
            None => return Combination::new(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_carries_its_combination() {
        let c = combination_of("Orders flow [consumer=node, producer=python]");
        assert_eq!(c.get("consumer").map(String::as_str), Some("node"));
        assert_eq!(c.get("producer").map(String::as_str), Some("python"));
        assert!(combination_of("Orders flow").is_empty());
        assert!(combination_of("Lists [a, b]").is_empty());
    }
}
