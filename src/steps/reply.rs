//! Assertions on the reply of the last command.

use cucumber::gherkin::Step;
use cucumber::then;

use super::{doc_string, list_table};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::world::ValkeyWorld;

/// Fails with the command, who ran it, what was expected and what came back
/// (a long reply clipped, the whole kept: [`ValkeyWorld::shown`]).
fn mismatch(w: &mut ValkeyWorld, expected: &str) -> Error {
    failure(w, false, "answered", expected)
}

fn failure(w: &mut ValkeyWorld, cell: bool, answered: &str, expected: &str) -> Error {
    let shown = match w.last_shown(cell) {
        Ok(shown) => shown,
        Err(e) => return e,
    };
    match w.last() {
        Ok(last) => Error::Expectation(format!(
            "`{}` run by {} {answered}:\n{}\n  expected {expected}",
            crate::shown::clip(&last.command, &crate::shown::Whole::Nowhere),
            last.by,
            crate::error::indent(&shown)
        )),
        Err(e) => e,
    }
}

fn reply(w: &ValkeyWorld) -> Result<&Reply> {
    Ok(&w.last()?.reply)
}

/// The reply is a status or a string with exactly this text.
#[then(regex = r#"^the reply is "(.*)"$"#)]
async fn is_text(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    match reply(w)? {
        Reply::Status(s) if *s == text => Ok(()),
        r @ Reply::Bulk(_) if r.text().as_deref() == Some(text.as_str()) => Ok(()),
        _ => Err(mismatch(w, &format!("the text {text:?}"))),
    }
}

/// The reply is a status (simple string) such as `OK` or `PONG`.
#[then(regex = r#"^the reply is the status "(.*)"$"#)]
async fn is_status(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    match reply(w)? {
        Reply::Status(s) if *s == text => Ok(()),
        _ => Err(mismatch(w, &format!("the status {text}"))),
    }
}

/// The reply is a bulk string, written here as `valkey-cli` prints it
/// (`"a\x00b"` for binary data).
#[then(regex = r#"^the reply is the string (".*")$"#)]
async fn is_string(w: &mut ValkeyWorld, quoted: String) -> Result<()> {
    let quoted = w.expand(&quoted).await?;
    match reply(w)? {
        r @ Reply::Bulk(_) if r.to_string() == quoted => Ok(()),
        _ => Err(mismatch(w, &format!("the string {quoted}"))),
    }
}

/// The reply is this integer.
#[then(regex = r"^the reply is the integer (-?\d+)$")]
async fn is_integer(w: &mut ValkeyWorld, n: i64) -> Result<()> {
    match reply(w)? {
        Reply::Integer(i) if *i == n => Ok(()),
        _ => Err(mismatch(w, &format!("(integer) {n}"))),
    }
}

/// The reply is nil.
#[then(regex = r"^the reply is nil$")]
async fn is_nil(w: &mut ValkeyWorld) -> Result<()> {
    match reply(w)? {
        Reply::Nil => Ok(()),
        _ => Err(mismatch(w, "(nil)")),
    }
}

/// The reply is a list (or set) with exactly these elements, in this order;
/// one element per row.
#[then(regex = r"^the reply is the list:$")]
async fn is_list(w: &mut ValkeyWorld, #[step] s: &Step) -> Result<()> {
    let expected = list_table(w, s).await?;
    match reply(w)?.items() {
        Some(items) if items == expected => Ok(()),
        _ => Err(mismatch(w, &format!("the list {expected:?}"))),
    }
}

/// The reply is a list (or set) with these elements in any order.
#[then(regex = r"^the reply is the list, in any order:$")]
async fn is_list_any_order(w: &mut ValkeyWorld, #[step] s: &Step) -> Result<()> {
    let mut expected = list_table(w, s).await?;
    expected.sort();
    match reply(w)?.items() {
        Some(mut items) => {
            items.sort();
            if items == expected {
                return Ok(());
            }
            Err(mismatch(
                w,
                &format!("the elements {expected:?} in any order"),
            ))
        }
        None => Err(mismatch(
            w,
            &format!("the elements {expected:?} in any order"),
        )),
    }
}

/// The reply is an empty list (or set).
#[then(regex = r"^the reply is an empty list$")]
async fn is_empty_list(w: &mut ValkeyWorld) -> Result<()> {
    match reply(w)?.items() {
        Some(items) if items.is_empty() => Ok(()),
        _ => Err(mismatch(w, "(empty array)")),
    }
}

/// The reply is an error whose message (code included) contains the text.
#[then(regex = r#"^the reply is an error containing "(.*)"$"#)]
async fn is_error(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    match reply(w)?.error() {
        Some(e) if e.contains(&text) => Ok(()),
        _ => Err(mismatch(w, &format!("an error containing {text:?}"))),
    }
}

/// Fails with the text a pattern was matched against (see
/// [`Reply::cell`]), and what was expected of it.
fn text_mismatch(w: &mut ValkeyWorld, expected: &str) -> Error {
    failure(w, true, "answered the text", expected)
}

/// The reply's text matches the regular expression: a string or status as
/// its bare text (no quotes), a number as its digits, anything else (a
/// list, an error, nil) as `valkey-cli` prints it.
#[then(regex = r"^the reply matches /(.*)/$")]
async fn matches(w: &mut ValkeyWorld, pattern: String) -> Result<()> {
    let pattern = w.expand(&pattern).await?;
    if regex_of(&pattern)?.is_match(&reply(w)?.cell()) {
        return Ok(());
    }
    Err(text_mismatch(w, &format!("a match for /{pattern}/")))
}

/// The reply's text, as for `the reply matches`, contains the text.
#[then(regex = r#"^the reply contains "(.*)"$"#)]
async fn contains(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    if reply(w)?.cell().contains(&text) {
        return Ok(());
    }
    Err(text_mismatch(w, &format!("a text containing {text:?}")))
}

/// The reply prints exactly as the doc string, the way `valkey-cli` prints it.
#[then(regex = r"^the reply is:$")]
async fn prints_as(w: &mut ValkeyWorld, #[step] s: &Step) -> Result<()> {
    let expected = doc_string(w, s).await?;
    let expected = expected.trim_end();
    if reply(w)?.to_string() == expected {
        return Ok(());
    }
    Err(mismatch(
        w,
        &format!("exactly:\n{}", crate::error::indent(expected)),
    ))
}

fn regex_of(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|e| Error::Config {
        what: format!("/{pattern}/ is not a regular expression: {e}"),
        hint: "the syntax is that of the regex crate".into(),
    })
}

/// The reply is anything but a status or string with exactly this text
/// (nil, an integer, an error, another text).
#[then(regex = r#"^the reply is not "(.*)"$"#)]
async fn is_not_text(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    match reply(w)? {
        Reply::Status(s) if *s == text => Err(mismatch(w, &format!("anything but {text:?}"))),
        r @ Reply::Bulk(_) if r.text().as_deref() == Some(text.as_str()) => {
            Err(mismatch(w, &format!("anything but {text:?}")))
        }
        _ => Ok(()),
    }
}

/// The reply's text, as for `the reply matches`, does not contain the text.
#[then(regex = r#"^the reply does not contain "(.*)"$"#)]
async fn does_not_contain(w: &mut ValkeyWorld, text: String) -> Result<()> {
    let text = w.expand(&text).await?;
    if !reply(w)?.cell().contains(&text) {
        return Ok(());
    }
    Err(text_mismatch(w, &format!("a text without {text:?}")))
}

/// The reply's text, as for `the reply matches`, has no match for the
/// regular expression.
#[then(regex = r"^the reply does not match /(.*)/$")]
async fn does_not_match(w: &mut ValkeyWorld, pattern: String) -> Result<()> {
    let pattern = w.expand(&pattern).await?;
    if !regex_of(&pattern)?.is_match(&reply(w)?.cell()) {
        return Ok(());
    }
    Err(text_mismatch(w, &format!("no match for /{pattern}/")))
}
