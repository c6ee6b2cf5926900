//! Shards: one machine's part of a selection, for splitting a suite across
//! CI runners. A test belongs to shard `hash(name) mod n`, the hash being
//! SHA-256 of its stable name: deterministic on every machine, and adding a
//! scenario moves no other one. A feature that shares servers between its
//! scenarios is one test, so it is never split.

use crate::error::{Error, Result};

/// `--shard i/n`: the `i`-th of `n` parts (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: u64,
    /// How many parts.
    pub total: u64,
    /// How long each test took in an earlier run (`--shard-timings`): the
    /// tests it names are packed by duration, heaviest first, each into the
    /// part with the least work so far; the others fall back to the hash.
    pub timings: std::collections::HashMap<String, std::time::Duration>,
    /// Where the part came from, for the run's first line: `--shard 2/3`,
    /// or the CI variables `auto` read (`CI_NODE_INDEX=2, CI_NODE_TOTAL=3`).
    pub source: String,
}

impl Shard {
    /// Reads `i/n`; `auto` (or `auto/n`) takes the index and total from the
    /// CI's own variables: GitLab's `CI_NODE_INDEX`/`CI_NODE_TOTAL`,
    /// Buildkite's `BUILDKITE_PARALLEL_JOB`/`_COUNT`, or a Kubernetes Indexed
    /// Job's `JOB_COMPLETION_INDEX` with the total given as `auto/n`. Sources
    /// that disagree (the `n` of `auto/n` and a CI's total, two CIs' parts)
    /// are refused, naming both; so is an index beyond the total, named as
    /// the variable gave it.
    pub fn parse(spec: &str) -> Result<Shard> {
        Shard::parse_with(spec, |k| std::env::var(k).ok())
    }

    /// [`Shard::parse`] with the environment read through `env`.
    pub fn parse_with(spec: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard> {
        let bad = |why: String| {
            Error::Config {
            what: format!("--shard {spec:?}: {why}"),
            hint: "write --shard 2/3 (the second of three parts), --shard auto, or --shard auto/3 for a Kubernetes Indexed Job".into(),
        }
        };
        let (index, total) = spec.split_once('/').unwrap_or((spec, ""));
        let timings = Default::default();
        let number = |k: &str, v: &str| {
            v.parse::<u64>()
                .map_err(|_| bad(format!("{k}={v:?} is not a number")))
        };
        if index != "auto" {
            let shard = Shard {
                index: index
                    .parse()
                    .map_err(|_| bad(format!("{index:?} is not a number")))?,
                total: total
                    .parse()
                    .map_err(|_| bad(format!("{total:?} is not a number")))?,
                timings,
                source: format!("--shard {spec}"),
            };
            if shard.total == 0 || shard.index == 0 || shard.index > shard.total {
                return Err(bad(format!(
                    "part {} of {} does not exist (parts count from 1)",
                    shard.index, shard.total
                )));
            }
            return Ok(shard);
        }
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        let given = if total.is_empty() {
            None
        } else {
            Some(number(&format!("--shard {spec}: the total"), total)?)
        };
        // Every source present, as (what it says, part from 1, total).
        let mut found: Vec<(String, u64, Option<u64>)> = Vec::new();
        if let (Some(i), Some(n)) = (env("CI_NODE_INDEX"), env("CI_NODE_TOTAL")) {
            let (index, total) = (number("CI_NODE_INDEX", &i)?, number("CI_NODE_TOTAL", &n)?);
            if index == 0 || index > total {
                return Err(bad(format!(
                    "CI_NODE_INDEX={i} is not one of CI_NODE_TOTAL={n}'s parts (GitLab counts them from 1)"
                )));
            }
            found.push((
                format!("CI_NODE_INDEX={i}, CI_NODE_TOTAL={n}"),
                index,
                Some(total),
            ));
        }
        if let (Some(i), Some(n)) = (
            env("BUILDKITE_PARALLEL_JOB"),
            env("BUILDKITE_PARALLEL_JOB_COUNT"),
        ) {
            let (index, total) = (
                number("BUILDKITE_PARALLEL_JOB", &i)?,
                number("BUILDKITE_PARALLEL_JOB_COUNT", &n)?,
            );
            if index >= total {
                return Err(bad(format!(
                    "BUILDKITE_PARALLEL_JOB={i} is not one of BUILDKITE_PARALLEL_JOB_COUNT={n}'s jobs (Buildkite counts them from 0)"
                )));
            }
            found.push((
                format!("BUILDKITE_PARALLEL_JOB={i}, BUILDKITE_PARALLEL_JOB_COUNT={n}"),
                index + 1,
                Some(total),
            ));
        }
        if let Some(i) = env("JOB_COMPLETION_INDEX") {
            let index = number("JOB_COMPLETION_INDEX", &i)?;
            found.push((format!("JOB_COMPLETION_INDEX={i}"), index + 1, None));
        }
        let Some((source, index, total)) = found.first().cloned() else {
            return Err(bad(
                "no CI variables name this machine's part (CI_NODE_INDEX/CI_NODE_TOTAL, BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT, JOB_COMPLETION_INDEX)".into(),
            ));
        };
        for (other, other_index, other_total) in &found[1..] {
            if (*other_index, other_total.or(total)) != (index, total.or(*other_total)) {
                return Err(bad(format!(
                    "{source} and {other} name different parts: unset the variables of the CI this job does not run on, or write --shard i/n"
                )));
            }
        }
        let total = match (given, found.iter().find_map(|f| f.2.map(|n| (&f.0, n)))) {
            (Some(g), Some((from, n))) if g != n => {
                return Err(bad(format!(
                    "the {g} parts written after auto/ and {from} ({n} parts) disagree: write --shard auto to take the CI's total, or make them agree"
                )));
            }
            (_, Some((_, n))) => n,
            (Some(g), None) => g,
            (None, None) => {
                return Err(bad(format!(
                    "{source} gives the index only: write --shard auto/<total>"
                )));
            }
        };
        if index > total {
            return Err(bad(format!(
                "{source} is beyond the {total} parts of auto/{total} (JOB_COMPLETION_INDEX counts from 0: 0 to {}); run {total} completions, or write auto/<completions>",
                total - 1
            )));
        }
        if total == 0 {
            return Err(bad("a run of 0 parts does not exist".into()));
        }
        let source = match given {
            Some(_) => format!("--shard {spec} with {source}"),
            None => format!("--shard auto with {source}"),
        };
        Ok(Shard {
            index,
            total,
            timings,
            source,
        })
    }

    /// The part (from 0) of each test of a selection: the tests with a
    /// known duration packed heaviest first into the lightest part (ties to
    /// the lower part, then by name, so every machine computes the same
    /// packing), the others by their hash.
    pub fn assign<'a>(&self, names: &[&'a str]) -> std::collections::HashMap<&'a str, u64> {
        let mut out = std::collections::HashMap::new();
        let mut known: Vec<(&str, std::time::Duration)> = Vec::new();
        for name in names {
            match self.timings.get(*name) {
                Some(d) => known.push((name, *d)),
                None => {
                    out.insert(*name, bucket(name, self.total));
                }
            }
        }
        known.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut load = vec![std::time::Duration::ZERO; self.total as usize];
        for (name, d) in known {
            let part = (0..load.len())
                .min_by_key(|p| (load[*p], *p))
                .expect("at least one part");
            load[part] += d;
            out.insert(name, part as u64);
        }
        out
    }
}

/// Which part of which selection a run's reports hold: `report merge`
/// checks that the parts it is given make the whole selection, once each.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Part {
    /// Which part, from 1 (1 of 1 for a run that is not sharded).
    pub index: u64,
    /// How many parts.
    pub total: u64,
    /// How many scenarios the whole selection holds, every part's together.
    pub size: usize,
    /// The whole selection's identity: SHA-256 (hex) of its scenarios' test
    /// names and lines ([`Part::digest`]).
    pub digest: String,
}

impl Part {
    /// The digest of a selection given as (test name, line) of each
    /// scenario, in any order.
    pub fn digest<'a>(scenarios: impl IntoIterator<Item = (&'a str, usize)>) -> String {
        let mut lines: Vec<String> = scenarios
            .into_iter()
            .map(|(name, line)| format!("{name}\t{line}\n"))
            .collect();
        lines.sort();
        let digest = ring::digest::digest(&ring::digest::SHA256, lines.concat().as_bytes());
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `2/3`.
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.index, self.total)
    }

    /// `176 scenarios, sha256 1f2e…` (the digest's first 16 digits).
    pub fn selection(&self) -> String {
        format!(
            "{} scenarios, sha256 {}",
            self.size,
            &self.digest[..self.digest.len().min(16)]
        )
    }
}

/// The part (from 0) of `n` a test name falls in.
pub fn bucket(test_name: &str, n: u64) -> u64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, test_name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_be_bytes(first) % n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_checked() {
        let s = Shard::parse("2/3").unwrap();
        assert_eq!((s.index, s.total), (2, 3));
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("x/3").is_err());
        assert!(Shard::parse("1/0").is_err());
    }

    fn auto(spec: &str, vars: &[(&str, &str)]) -> std::result::Result<(u64, u64), String> {
        Shard::parse_with(spec, |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .map(|s| (s.index, s.total))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn auto_takes_the_ci_part_and_refuses_contradictions() {
        let gitlab = [("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")];
        assert_eq!(auto("auto", &gitlab), Ok((2, 3)));
        assert_eq!(auto("auto/3", &gitlab), Ok((2, 3)));
        // auto/4 beside a CI that runs 3 jobs: not silently part 2 of 3.
        let err = auto("auto/4", &gitlab).unwrap_err();
        assert!(
            err.contains("auto/") && err.contains("4 parts") && err.contains("CI_NODE_TOTAL=3"),
            "{err}"
        );
        assert_eq!(auto("auto/3", &[("JOB_COMPLETION_INDEX", "2")]), Ok((3, 3)));
        // JOB_COMPLETION_INDEX=3 of 3 completions: named as the variable
        // says it, never as a "part 4 of 3" nobody wrote.
        let err = auto("auto/3", &[("JOB_COMPLETION_INDEX", "3")]).unwrap_err();
        assert!(err.contains("JOB_COMPLETION_INDEX=3"), "{err}");
        assert!(!err.contains("part 4"), "{err}");
        let err = auto("auto", &[("CI_NODE_INDEX", "4"), ("CI_NODE_TOTAL", "3")]).unwrap_err();
        assert!(
            err.contains("CI_NODE_INDEX=4") && err.contains("CI_NODE_TOTAL=3"),
            "{err}"
        );
        let both = [
            ("CI_NODE_INDEX", "1"),
            ("CI_NODE_TOTAL", "3"),
            ("JOB_COMPLETION_INDEX", "1"),
        ];
        let err = auto("auto", &both).unwrap_err();
        assert!(
            err.contains("CI_NODE_INDEX=1") && err.contains("JOB_COMPLETION_INDEX=1"),
            "{err}"
        );
        let source = Shard::parse_with("auto", |k| {
            gitlab
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
        .source;
        assert_eq!(source, "--shard auto with CI_NODE_INDEX=2, CI_NODE_TOTAL=3");
    }

    #[test]
    fn every_name_is_in_exactly_one_part() {
        let names = [
            "a",
            "features/x.feature: b",
            "features/y.feature: (whole feature)",
        ];
        for name in names {
            let holders: Vec<u64> = (1..=3)
                .filter(|i| {
                    let shard = Shard {
                        index: *i,
                        total: 3,
                        timings: Default::default(),
                        source: String::new(),
                    };
                    shard.assign(&names)[name] == shard.index - 1
                })
                .collect();
            assert_eq!(holders.len(), 1, "{name}");
        }
    }

    #[test]
    fn known_durations_are_packed_heaviest_first_and_the_rest_hashed() {
        let ms = std::time::Duration::from_millis;
        let timings = [
            ("a", 9000),
            ("b", 5000),
            ("c", 4000),
            ("d", 3000),
            ("e", 3000),
            ("f", 2000),
        ]
        .map(|(n, d)| (n.to_string(), ms(d)))
        .into_iter()
        .collect();
        let shard = Shard {
            index: 1,
            total: 3,
            timings,
            source: String::new(),
        };
        let names = ["a", "b", "c", "d", "e", "f", "new"];
        let parts = shard.assign(&names);
        let load = |p: u64| {
            names
                .iter()
                .filter(|n| parts[*n] == p && shard.timings.contains_key(**n))
                .map(|n| shard.timings[*n])
                .sum::<std::time::Duration>()
        };
        let loads = [load(0), load(1), load(2)];
        let (max, min) = (loads.iter().max().unwrap(), loads.iter().min().unwrap());
        assert!(max.as_secs_f64() / min.as_secs_f64() <= 1.3, "{loads:?}");
        assert_eq!(
            parts["new"],
            bucket("new", 3),
            "an unknown test keeps its hash"
        );
        assert_eq!(shard.assign(&names), parts, "the same packing every time");
    }

    #[test]
    fn the_bucket_of_a_name_never_changes() {
        // Pinned: a change of hash would move every scenario between machines.
        // SHA-256("abc") begins ba7816bf 8f01cfea.
        assert_eq!(bucket("abc", 1 << 32), 0x8f01_cfea);
    }
}
