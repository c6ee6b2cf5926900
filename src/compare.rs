//! Numbers as servers print them, and the comparisons sentences make of
//! them: `greater than 5`, `at least ${before}`, `between 1 and 3`.
//!
//! A value that is not a number never satisfies a comparison: it fails,
//! saying what was seen, instead of being read as 0.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A number read from a reply, an `INFO` field, a config value or a
/// remembered value: an integer when it is one, a float otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// `42`, `-3`.
    Int(i64),
    /// `1.5`, `3e2`, `0.75` (never NaN).
    Float(f64),
}

impl Number {
    /// Reads a number the way a server prints one; `None` for anything
    /// else (an empty text, `abc`, `1kb`, `nan`).
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        // Rust reads "inf" and "nan"; servers print "inf" for an unbounded
        // score, which compares fine, but NaN compares with nothing.
        match text.parse::<f64>() {
            Ok(f) if !f.is_nan() => Some(Number::Float(f)),
            _ => None,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Orders two numbers: exactly for two integers, as floats otherwise.
    pub fn compare(self, other: Number) -> Ordering {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.cmp(&b),
            (a, b) => a
                .as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(Ordering::Equal),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A comparison as a sentence writes it, over bounds of type `T`: the
/// sentence's text first, numbers once placeholders are filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison<T> {
    /// `greater than X`.
    GreaterThan(T),
    /// `at least X`.
    AtLeast(T),
    /// `less than X`.
    LessThan(T),
    /// `at most X`.
    AtMost(T),
    /// `equal to X`: the same number (`1.0` is equal to `1`).
    EqualTo(T),
    /// `between X and Y`, both included.
    Between(T, T),
}

impl<T> Comparison<T> {
    /// The same comparison over other bounds; the first bound `f` refuses
    /// is the error.
    pub fn try_map<U, E>(&self, mut f: impl FnMut(&T) -> Result<U, E>) -> Result<Comparison<U>, E> {
        Ok(match self {
            Comparison::GreaterThan(x) => Comparison::GreaterThan(f(x)?),
            Comparison::AtLeast(x) => Comparison::AtLeast(f(x)?),
            Comparison::LessThan(x) => Comparison::LessThan(f(x)?),
            Comparison::AtMost(x) => Comparison::AtMost(f(x)?),
            Comparison::EqualTo(x) => Comparison::EqualTo(f(x)?),
            Comparison::Between(a, b) => Comparison::Between(f(a)?, f(b)?),
        })
    }
}

impl<T> Comparison<T> {
    /// The bounds, in the order written.
    pub fn bounds(&self) -> Vec<&T> {
        match self {
            Comparison::GreaterThan(x)
            | Comparison::AtLeast(x)
            | Comparison::LessThan(x)
            | Comparison::AtMost(x)
            | Comparison::EqualTo(x) => vec![x],
            Comparison::Between(a, b) => vec![a, b],
        }
    }
}

impl Comparison<Number> {
    /// Whether `n` satisfies the comparison.
    pub fn holds(&self, n: Number) -> bool {
        use Ordering::*;
        match *self {
            Comparison::GreaterThan(x) => n.compare(x) == Greater,
            Comparison::AtLeast(x) => n.compare(x) != Less,
            Comparison::LessThan(x) => n.compare(x) == Less,
            Comparison::AtMost(x) => n.compare(x) != Greater,
            Comparison::EqualTo(x) => n.compare(x) == Equal,
            Comparison::Between(a, b) => n.compare(a) != Less && n.compare(b) != Greater,
        }
    }
}

impl<T: fmt::Display> fmt::Display for Comparison<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comparison::GreaterThan(x) => write!(f, "greater than {x}"),
            Comparison::AtLeast(x) => write!(f, "at least {x}"),
            Comparison::LessThan(x) => write!(f, "less than {x}"),
            Comparison::AtMost(x) => write!(f, "at most {x}"),
            Comparison::EqualTo(x) => write!(f, "equal to {x}"),
            Comparison::Between(a, b) => write!(f, "between {a} and {b}"),
        }
    }
}

/// The regular expression of a comparison in a sentence (unanchored).
pub const COMPARISON_REGEX: &str =
    r#"(?:greater than|at least|less than|at most|equal to) \S+|between \S+ and \S+"#;

impl FromStr for Comparison<String> {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bound = |b: &str| b.trim_matches('"').to_string();
        if let Some(rest) = s.strip_prefix("between ") {
            let (a, b) = rest
                .split_once(" and ")
                .ok_or_else(|| format!("{s:?}: write `between X and Y`"))?;
            return Ok(Comparison::Between(bound(a), bound(b)));
        }
        type Make = fn(String) -> Comparison<String>;
        let ops: [(&str, Make); 5] = [
            ("greater than ", Comparison::GreaterThan),
            ("at least ", Comparison::AtLeast),
            ("less than ", Comparison::LessThan),
            ("at most ", Comparison::AtMost),
            ("equal to ", Comparison::EqualTo),
        ];
        ops.iter()
            .find_map(|(prefix, make)| s.strip_prefix(prefix).map(|x| make(bound(x))))
            .ok_or_else(|| {
                format!(
                    "{s:?} is no comparison: write greater than X, at least X, less than X, \
                     at most X, equal to X or between X and Y"
                )
            })
    }
}

/// What a sentence expects of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Exactly this text.
    Text(String),
    /// Not this text (a value that is absent is not it either).
    NotText(String),
    /// A number satisfying the comparison.
    Number(Comparison<Number>),
}

impl Expected {
    /// Checks a value (`None`: absent, or nil). `Err` says, in words that
    /// follow the value's description, why it does not do: `is "abc", which
    /// is not a number`.
    pub fn check(&self, seen: Option<&str>) -> Result<(), String> {
        let shown = || seen.map_or("absent".to_string(), |s| format!("{s:?}"));
        match (self, seen) {
            (Expected::Text(t), Some(s)) if s == t => Ok(()),
            (Expected::Text(_), _) => Err(format!("is {}", shown())),
            (Expected::NotText(t), Some(s)) if s == t => Err(format!("is {}", shown())),
            (Expected::NotText(_), _) => Ok(()),
            (Expected::Number(c), Some(s)) => match Number::parse(s) {
                Some(n) if c.holds(n) => Ok(()),
                Some(_) => Err(format!("is {}", shown())),
                None => Err(format!("is {}, which is not a number", shown())),
            },
            (Expected::Number(_), None) => Err("is absent, which is not a number".into()),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Text(t) => write!(f, "{t:?}"),
            Expected::NotText(t) => write!(f, "anything but {t:?}"),
            Expected::Number(c) => write!(f, "a number {c}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(s: &str) -> Comparison<Number> {
        s.parse::<Comparison<String>>()
            .unwrap()
            .try_map(|b| Number::parse(b).ok_or(()))
            .unwrap()
    }

    #[test]
    fn numbers_compare_exactly_as_integers_and_loosely_as_floats() {
        assert!(cmp("greater than 5").holds(Number::Int(6)));
        assert!(!cmp("greater than 5").holds(Number::Int(5)));
        assert!(cmp("at least 5").holds(Number::Int(5)));
        assert!(cmp("less than 1.5").holds(Number::Int(1)));
        assert!(cmp("at most 2").holds(Number::Float(2.0)));
        assert!(cmp("equal to 1").holds(Number::Float(1.0)));
        assert!(cmp("between 1 and 3").holds(Number::Int(3)));
        assert!(!cmp("between 1 and 3").holds(Number::Float(3.5)));
        assert!(cmp("greater than 9007199254740992").holds(Number::Int(9_007_199_254_740_993)));
    }

    #[test]
    fn a_value_that_is_no_number_fails_saying_what_it_was() {
        let e = Expected::Number(cmp("greater than 5"));
        assert_eq!(
            e.check(Some("1kb")),
            Err("is \"1kb\", which is not a number".into())
        );
        assert_eq!(
            e.check(None),
            Err("is absent, which is not a number".into())
        );
        assert_eq!(Number::parse("nan"), None);
        assert_eq!(Number::parse(" 12 "), Some(Number::Int(12)));
    }

    #[test]
    fn comparisons_read_as_written() {
        for s in ["greater than 5", "at least x", "between 1 and ${max}"] {
            assert_eq!(s.parse::<Comparison<String>>().unwrap().to_string(), s);
        }
        assert!("more than 5".parse::<Comparison<String>>().is_err());
    }
}
