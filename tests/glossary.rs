//! `STEPS.md` is generated from the step definitions and must not drift;
//! every step is used by some feature; every feature step is known.

use std::path::Path;

use valkey_bdd::cucumber::gherkin;
use valkey_bdd::glossary::{self, Entry};

fn source_entries() -> Vec<Entry> {
    let mut files: Vec<_> = std::fs::read_dir("steps")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            glossary::entries_of(
                &format!("steps/{}", p.file_name().unwrap().to_string_lossy()),
                &text,
            )
        })
        .collect()
}

#[test]
fn the_glossary_is_up_to_date() {
    let rendered = glossary::render(&source_entries());
    if std::env::var_os("VALKEY_BDD_BLESS").is_some() {
        std::fs::write("STEPS.md", &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string("STEPS.md").unwrap_or_default();
    assert!(
        on_disk == rendered,
        "STEPS.md is stale: run `VALKEY_BDD_BLESS=1 cargo test --test glossary` and commit it"
    );
}

#[test]
fn the_glossary_has_every_registered_step() {
    let registered = glossary::registered();
    let entries = source_entries();
    assert_eq!(
        registered.len(),
        entries.len(),
        "registered steps and steps read from steps/*.rs differ:\nregistered: {:#?}",
        registered
            .iter()
            .map(|s| format!("{} {}", s.keyword, s.regex))
            .collect::<Vec<_>>()
    );
    for s in &registered {
        assert!(
            s.path.contains("steps/"),
            "a step outside steps/: {}:{}",
            s.path,
            s.line
        );
        let entry = entries
            .iter()
            .find(|e| s.path.ends_with(&e.file) && e.line == s.line && e.keyword == s.keyword)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} ({}:{}) is not in the glossary",
                    s.keyword, s.regex, s.path, s.line
                )
            });
        assert!(
            !entry.doc.is_empty(),
            "{} {} has no doc comment",
            s.keyword,
            entry.sentence
        );
    }
}

fn feature_steps(dir: &Path, out: &mut Vec<(String, String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            feature_steps(&p, out);
        } else if p.extension().is_some_and(|e| e == "feature") {
            let f = gherkin::Feature::parse_path(&p, gherkin::GherkinEnv::default()).unwrap();
            let steps = f
                .background
                .iter()
                .flat_map(|b| b.steps.iter())
                .chain(f.scenarios.iter().flat_map(|s| s.steps.iter()));
            for s in steps {
                let kw = match s.ty {
                    gherkin::StepType::Given => "Given",
                    gherkin::StepType::When => "When",
                    gherkin::StepType::Then => "Then",
                };
                out.push((
                    kw.to_string(),
                    s.value.clone(),
                    format!("{}:{}", p.display(), s.position.line),
                ));
            }
        }
    }
}

#[test]
fn every_step_is_used_by_a_feature() {
    let mut used: Vec<(String, String, String)> = Vec::new();
    feature_steps(Path::new("features"), &mut used);
    let unused: Vec<String> = glossary::registered()
        .iter()
        // A sentence registered for Given and When counts as used by either.
        .filter(|s| !used.iter().any(|(_, text, _)| s.regex.is_match(text)))
        .map(|s| format!("{} /{}/ ({}:{})", s.keyword, s.regex, s.path, s.line))
        .collect();
    assert!(
        unused.is_empty(),
        "steps no feature uses:\n{}",
        unused.join("\n")
    );
}
