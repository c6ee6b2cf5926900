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
use crate::servo::{self, Roles, Sentence};

/// The roles file of each feature file that has one.
#[derive(Debug, Clone, Default)]
pub struct RunRoles {
    by_feature: HashMap<PathBuf, Arc<Roles>>,
}

impl RunRoles {
    /// Finds the roles file of a feature: `roles.toml` in the feature's
    /// folder or the nearest folder above it (not above the current
    /// directory, for a feature below it), read once per file. A roles
    /// file that cannot be read stops the run.
    pub fn add(&mut self, feature: &gherkin::Feature) -> Result<Option<Arc<Roles>>> {
        let Some(path) = &feature.path else {
            return Ok(None);
        };
        let path = canonical(path);
        let cwd = std::env::current_dir().ok();
        let Some(file) = nearest_roles_file(&path, cwd.as_deref()) else {
            return Ok(None);
        };
        let roles = match self.by_feature.values().find(|r| r.file == file) {
            Some(r) => r.clone(),
            None => Arc::new(Roles::load(&file)?),
        };
        self.by_feature.insert(path, roles.clone());
        Ok(Some(roles))
    }

    /// Every roles file read, once each.
    pub fn files(&self) -> Vec<&Roles> {
        let mut out: Vec<&Roles> = Vec::new();
        for r in self.by_feature.values() {
            if !out.iter().any(|o| o.file == r.file) {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.file.cmp(&b.file));
        out
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

/// Writes every `And`/`But` step of a feature that keeps a role into the
/// explicit form.
pub fn keep_roles_in(feature: &mut gherkin::Feature, roles: &Roles) {
    if let Some(b) = &mut feature.background {
        keep_roles(&mut b.steps, roles);
    }
    for s in &mut feature.scenarios {
        keep_roles(&mut s.steps, roles);
    }
    for rule in &mut feature.rules {
        if let Some(b) = &mut rule.background {
            keep_roles(&mut b.steps, roles);
        }
        for s in &mut rule.scenarios {
            keep_roles(&mut s.steps, roles);
        }
    }
}

/// The continuation rule on one list of steps.
fn keep_roles(steps: &mut [gherkin::Step], roles: &Roles) {
    let mut current: Option<String> = None;
    for step in steps {
        if let Some((role, _)) = servo::role_of(&step.value) {
            current = roles.role(role).map(|_| role.to_string());
            continue;
        }
        let continues = matches!(step.keyword.trim(), "And" | "But");
        match &current {
            Some(role) if continues && !glossary::is_known(keyword_of(step), &step.value) => {
                step.value = servo::role_sentence(role, &step.value);
            }
            _ => current = None,
        }
    }
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
                out.push_str(&format!(
                    "- `` {} ``",
                    servo::role_sentence(&d.role, &p.pattern)
                ));
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
