//! `STEPS.md` is generated from the step definitions and must not drift;
//! every step is used by some feature; every feature step is known.

use std::path::Path;

use valkey_bdd::cucumber::gherkin;
use valkey_bdd::glossary::{self, Entry};

fn source_entries() -> Vec<Entry> {
    let mut files: Vec<_> = std::fs::read_dir("src/steps")
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
                &format!("src/steps/{}", p.file_name().unwrap().to_string_lossy()),
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
        "registered steps and steps read from src/steps/*.rs differ:\nregistered: {:#?}",
        registered
            .iter()
            .map(|s| format!("{} {}", s.keyword, s.regex))
            .collect::<Vec<_>>()
    );
    for s in registered {
        assert!(
            s.path.contains("src/steps/"),
            "a step outside src/steps/: {}:{}",
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

/// Sentences registered under `Given` or `When` only that nevertheless
/// assert: checkpoints that wait for a state, and steps that fail when what
/// they do does not turn out as they say. Each is an example text that must
/// match a registered step.
const CHECKPOINTS: &[&str] = &[
    r#"the INFO field "aof_rewrites" becomes "1""#,
    "the server is busy",
    r#"process "app" listens on its port"#,
    r#"an entry of the stream "s" has been pending in the group "g" for 10 ms"#,
    r#"client "alice" gets its reply"#,
    "I run `DEBUG SEGFAULT` and the server dies",
    r#"client "c" connects to the server as "alice" with password "pw""#,
    r#"server "b" replicates server "a""#,
    "I try to start a server with the config:",
    r#"I try to start a server with the module of the crate "m" and the arguments "a""#,
    "I ran the commands:",
    r#"the INFO field "connected_slaves" of the primary becomes "1""#,
    r#"the INFO field "connected_slaves" becomes at least 1"#,
    r#"the INFO field "master_repl_offset" of replica 1 becomes greater than 5"#,
    r#"the config "maxmemory" becomes "1""#,
    r#"the config "maxmemory" of replica 1 becomes "1""#,
    r#"the config "maxmemory" becomes between 1 and ${max}"#,
    r#"the reply to `LLEN q` becomes "3""#,
    "the reply to `DBSIZE` becomes at most 3",
    r#"the reply to `GET k` on replica 1 becomes "v""#,
    "`SET k v` replicates",
    r#"client "alice" watches 2 keys"#,
    r#"the transaction of client "alice" is doomed"#,
    r#"client "alice" has the flag "d""#,
    r#"the CLIENT LIST field "db" of client "alice" is "0""#,
    r#"the CLUSTER INFO field "cluster_state" of node 1 becomes "fail""#,
];

/// The last step of each scenario of the must-fail corpus (see
/// `tests/must_fail.rs`): the claim it shows failing.
fn must_fail_claims() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("tests/must_fail").unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "feature") {
            continue;
        }
        let f = gherkin::Feature::parse_path(&p, gherkin::GherkinEnv::default()).unwrap();
        for s in f
            .scenarios
            .iter()
            .chain(f.rules.iter().flat_map(|r| r.scenarios.iter()))
        {
            if let Some(last) = s.steps.last() {
                out.push((
                    last.value.clone(),
                    format!("{}:{}", p.display(), last.position.line),
                ));
            }
        }
    }
    out
}

#[test]
fn every_assertion_sentence_has_a_must_fail_twin() {
    let registered = glossary::registered();
    for sample in CHECKPOINTS {
        assert!(
            registered.iter().any(|s| s.regex.is_match(sample)),
            "the checkpoint {sample:?} of tests/glossary.rs matches no step: update the list"
        );
    }
    let claims = must_fail_claims();
    let mut missing: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for s in registered {
        let asserts =
            s.keyword == "Then" || CHECKPOINTS.iter().any(|sample| s.regex.is_match(sample));
        if !asserts || !seen.insert(s.regex.as_str().to_string()) {
            continue;
        }
        if !claims.iter().any(|(text, _)| s.regex.is_match(text)) {
            missing.push(format!(
                "  {} {}  ({}:{})",
                s.keyword,
                glossary::sentence_of(&s.regex),
                s.path,
                s.line
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "assertion sentences without a must-fail twin (a scenario in tests/must_fail/ whose last \
         step is the sentence, where its claim is false; see tests/must_fail.rs):\n{}",
        missing.join("\n")
    );
}

/// The role step (`src/steps/servos.rs`) registers the one spelling the
/// servo host reads roles with (`servo::ROLE_PATTERN`): a macro takes only
/// a literal, so the two texts are kept equal here.
#[test]
fn the_role_step_is_spelt_as_the_servo_host_reads_it() {
    let mine: Vec<_> = glossary::registered()
        .iter()
        .filter(|s| s.path.ends_with("steps/servos.rs"))
        .collect();
    assert_eq!(mine.len(), 3, "Given, When and Then");
    for s in mine {
        assert_eq!(
            s.regex.as_str(),
            valkey_bdd::servo::ROLE_PATTERN,
            "{}",
            s.keyword
        );
    }
}
