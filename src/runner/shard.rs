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
}

impl Shard {
    /// Reads `i/n`; `auto` (or `auto/n`) takes the index and total from the
    /// CI's own variables: GitLab's `CI_NODE_INDEX`/`CI_NODE_TOTAL`,
    /// Buildkite's `BUILDKITE_PARALLEL_JOB`/`_COUNT`, or a Kubernetes Indexed
    /// Job's `JOB_COMPLETION_INDEX` with the total given as `auto/n`.
    pub fn parse(spec: &str) -> Result<Shard> {
        let bad = |why: String| {
            Error::Config {
            what: format!("--shard {spec:?}: {why}"),
            hint: "write --shard 2/3 (the second of three parts), --shard auto, or --shard auto/3 for a Kubernetes Indexed Job".into(),
        }
        };
        let (index, total) = spec.split_once('/').unwrap_or((spec, ""));
        let timings = Default::default();
        let shard = if index == "auto" {
            let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            let number = |k: &str, v: String| {
                v.parse::<u64>()
                    .map_err(|_| bad(format!("{k}={v:?} is not a number")))
            };
            let given = if total.is_empty() {
                None
            } else {
                Some(number("the total", total.to_string())?)
            };
            if let (Some(i), Some(n)) = (env("CI_NODE_INDEX"), env("CI_NODE_TOTAL")) {
                Shard {
                    index: number("CI_NODE_INDEX", i)?,
                    total: number("CI_NODE_TOTAL", n)?,
                    timings,
                }
            } else if let (Some(i), Some(n)) = (
                env("BUILDKITE_PARALLEL_JOB"),
                env("BUILDKITE_PARALLEL_JOB_COUNT"),
            ) {
                Shard {
                    index: number("BUILDKITE_PARALLEL_JOB", i)? + 1,
                    total: number("BUILDKITE_PARALLEL_JOB_COUNT", n)?,
                    timings,
                }
            } else if let Some(i) = env("JOB_COMPLETION_INDEX") {
                Shard {
                    index: number("JOB_COMPLETION_INDEX", i)? + 1,
                    total: given.ok_or_else(|| {
                        bad(
                            "JOB_COMPLETION_INDEX gives the index only: write --shard auto/<total>"
                                .into(),
                        )
                    })?,
                    timings,
                }
            } else {
                return Err(bad(
                    "no CI variables name this machine's part (CI_NODE_INDEX/CI_NODE_TOTAL, BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT, JOB_COMPLETION_INDEX)".into(),
                ));
            }
        } else {
            Shard {
                index: index
                    .parse()
                    .map_err(|_| bad(format!("{index:?} is not a number")))?,
                total: total
                    .parse()
                    .map_err(|_| bad(format!("{total:?} is not a number")))?,
                timings,
            }
        };
        if shard.total == 0 || shard.index == 0 || shard.index > shard.total {
            return Err(bad(format!(
                "part {} of {} does not exist (parts count from 1)",
                shard.index, shard.total
            )));
        }
        Ok(shard)
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
