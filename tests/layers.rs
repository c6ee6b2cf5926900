//! The top-level modules of `src/` form layers: no import circle.
//!
//! A lower module never reaches up; the higher one passes down what is
//! needed. This test reads every
//! file under `src/`, finds the paths that name another top-level module
//! (`use crate::x::…`, `crate::x::…` in code, `super::x` from a top-level
//! file, `valkey_bdd::x` in the binary), and fails when the modules form a
//! circle, naming its modules and one line for each of its edges. It prints
//! the layers it found: layer 0 imports nobody, layer n imports something of
//! layer n − 1 and nothing higher.
//!
//! Comments and string literals are left out: a doc link or a message that
//! names a module does not tie the code together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One file's source, with its top-level module and its path inside it.
struct Source {
    file: String,
    module: String,
    /// The file's module path below the crate root (`["server", "spec"]`).
    path: Vec<String>,
    code: String,
}

/// Modules at the bottom, with the only modules each may import: the
/// error type imports nobody, and settings are declared by the modules
/// that own them (`settings::Check`) instead of settings reaching up.
const BOTTOM: &[(&str, &[&str])] = &[("error", &[]), ("settings", &["error"])];

/// Where one module names another: the first place found.
type Edges = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn modules_form_layers_without_circles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = sources(root);
    let modules: BTreeSet<String> = sources.iter().map(|s| s.module.clone()).collect();
    let reexports = reexports(&sources, &modules);
    let edges = edges(&sources, &modules, &reexports);
    let components = strongly_connected(&modules, &edges);
    let layers = layers(&components, &edges);
    let picture = picture(&components, &layers);
    println!("{picture}");

    let mut message = String::new();
    for (module, allowed) in BOTTOM {
        for (target, at) in edges.get(*module).into_iter().flatten() {
            if !allowed.contains(&target.as_str()) {
                message.push_str(&format!(
                    "{module} is at the bottom but imports {target} ({at})\n"
                ));
            }
        }
    }
    let circles: Vec<&Vec<String>> = components.iter().filter(|c| c.len() > 1).collect();
    if !circles.is_empty() || !message.is_empty() {
        for component in &circles {
            message.push_str(&format!(
                "{} modules import each other in a circle: {}\n",
                component.len(),
                component.join(", ")
            ));
            message.push_str("  one circle among them:\n");
            for (from, to) in circle(component, &edges) {
                message.push_str(&format!("    {from} -> {to}  ({})\n", edges[&from][&to]));
            }
        }
        panic!(
            "{message}\na lower module must not reach up: the higher one passes down \
             what is needed (a value, a function, or a registry the owner \
             submits to with `inventory`)\n\n{picture}"
        );
    }
}

/// Every `.rs` file under `src/`, comments and strings blanked out.
fn sources(root: &Path) -> Vec<Source> {
    let src = root.join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).expect("under src");
            let mut path: Vec<String> = relative
                .iter()
                .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            if path.last().is_some_and(|last| last == "mod") {
                path.pop();
            }
            let module = path[0].clone();
            if module == "lib" {
                path.clear();
            }
            let text = std::fs::read_to_string(&file).expect("readable source");
            Source {
                file: file
                    .strip_prefix(root)
                    .expect("under the crate")
                    .display()
                    .to_string(),
                module,
                path,
                code: blank(&text),
            }
        })
        .collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `text` with comments, string and character literals replaced by spaces
/// (line breaks kept, so line numbers stay right).
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_lines = |slice: &[char], out: &mut String| {
        for &c in slice {
            out.push(if c == '\n' { '\n' } else { ' ' });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let start = i;
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br#"…"#: ends at a quote followed by as many #.
            i += hashes.1;
            loop {
                if i >= chars.len() {
                    break;
                }
                if chars[i] == '"' && (1..=hashes.0).all(|k| chars.get(i + k) == Some(&'#')) {
                    i += 1 + hashes.0;
                    break;
                }
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(c);
            i += 1;
            continue;
        }
        keep_lines(&chars[start..i.min(chars.len())], &mut out);
    }
    out
}

/// At `i`, a raw string's opening: (number of #, length of the opening).
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    if i > 0 && is_ident(chars[i - 1]) {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((hashes, j + 1 - i))
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The names `lib.rs` re-exports at the crate root, with the module each
/// comes from (`Error` → `error`), so that `crate::Error` counts as `error`.
fn reexports(sources: &[Source], modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let Some(lib) = sources.iter().find(|s| s.module == "lib") else {
        return names;
    };
    for statement in lib.code.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let mut words = rest.split(|c: char| !is_ident(c)).filter(|w| !w.is_empty());
        let Some(module) = words.next().filter(|m| modules.contains(*m)) else {
            continue;
        };
        for name in words.filter(|w| *w != "as" && *w != "self") {
            names.insert(name.to_string(), module.to_string());
        }
    }
    names
}

/// The top-level modules each module names, with the first place it does.
fn edges(
    sources: &[Source],
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Edges {
    let mut edges: Edges = BTreeMap::new();
    for source in sources {
        let roots: &[&str] = if source.module == "bin" {
            &["valkey_bdd"]
        } else {
            &["crate"]
        };
        for (line, name) in named_modules(source, roots, modules) {
            let target = if modules.contains(&name) {
                name
            } else if let Some(module) = reexports.get(&name) {
                module.clone()
            } else {
                continue;
            };
            if target != source.module {
                edges
                    .entry(source.module.clone())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| format!("{}:{line}", source.file));
            }
        }
    }
    edges
}

/// The first segment after each path root in `source`, with its line:
/// `crate::a::b` gives `a`, `crate::{a::X, b}` gives `a` and `b`, and
/// `super::a` from a top-level file (whose parent is the crate) gives `a`,
/// and so does `a::b` in the crate root itself.
fn named_modules(
    source: &Source,
    roots: &[&str],
    modules: &BTreeSet<String>,
) -> Vec<(usize, String)> {
    let chars: Vec<char> = source.code.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if (i > 0 && is_ident(chars[i - 1])) || !is_ident(chars[i]) {
            i += 1;
            continue;
        }
        let word_end = (i..chars.len())
            .find(|&j| !is_ident(chars[j]))
            .unwrap_or(chars.len());
        let word: String = chars[i..word_end].iter().collect();
        let j = skip_space(&chars, word_end);
        let follows_path = chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':');
        if word == "super" && follows_path {
            // A file's own module path tells where its `super::` hops land
            // (inline `mod tests` blocks only ever go one up, to the file).
            let mut hops = 0;
            let mut k = i;
            while let Some(after) = super_hop(&chars, k) {
                hops += 1;
                k = after;
            }
            if hops == source.path.len() {
                found.extend(segments(&chars, k));
            }
            i = k;
            continue;
        }
        // At the crate root (`lib.rs`), `use x::…` names module x itself.
        let after_path = i >= 2 && chars[i - 2..i] == [':', ':'];
        if source.path.is_empty() && follows_path && !after_path && modules.contains(&word) {
            found.push((i, word.clone()));
        }
        if roots.contains(&word.as_str()) && follows_path {
            found.extend(segments(&chars, skip_space(&chars, j + 2)));
        }
        i = word_end;
    }
    found
        .into_iter()
        .map(|(at, name)| (line_of(&chars, at), name))
        .collect()
}

/// The first identifier of a path at `start`, or of each item of a
/// `{…}` group there.
fn segments(chars: &[char], start: usize) -> Vec<(usize, String)> {
    if chars.get(start) != Some(&'{') {
        return ident_at(chars, start).into_iter().collect();
    }
    let mut items = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (k, &c) in chars.iter().enumerate().skip(start) {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    item_start = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if depth == 1 && item_start && is_ident(c) => {
                items.extend(ident_at(chars, k));
                item_start = false;
            }
            c if depth == 1 && !c.is_whitespace() => item_start = false,
            _ => {}
        }
    }
    items
}

/// At `k`, `super ::`: where the path goes on after it.
fn super_hop(chars: &[char], k: usize) -> Option<usize> {
    let end = k + "super".len();
    let word: String = chars.get(k..end)?.iter().collect();
    if word != "super" || chars.get(end).is_some_and(|&c| is_ident(c)) {
        return None;
    }
    let after = skip_space(chars, end);
    (chars.get(after) == Some(&':') && chars.get(after + 1) == Some(&':'))
        .then(|| skip_space(chars, after + 2))
}

fn ident_at(chars: &[char], start: usize) -> Option<(usize, String)> {
    let end = (start..chars.len())
        .find(|&j| !is_ident(chars[j]))
        .unwrap_or(chars.len());
    (end > start).then(|| (start, chars[start..end].iter().collect()))
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

fn line_of(chars: &[char], at: usize) -> usize {
    1 + chars[..at].iter().filter(|&&c| c == '\n').count()
}

/// Tarjan's strongly connected components, each sorted, in an order where
/// a component comes after every component it imports.
fn strongly_connected(modules: &BTreeSet<String>, edges: &Edges) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a Edges,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        components: Vec<Vec<String>>,
    }
    fn visit(state: &mut State, module: &str) {
        let n = state.index.len();
        state.index.insert(module.to_string(), n);
        state.low.insert(module.to_string(), n);
        state.stack.push(module.to_string());
        state.on_stack.insert(module.to_string());
        let targets: Vec<String> = state
            .edges
            .get(module)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        for target in targets {
            if !state.index.contains_key(&target) {
                visit(state, &target);
                let low = state.low[module].min(state.low[&target]);
                state.low.insert(module.to_string(), low);
            } else if state.on_stack.contains(&target) {
                let low = state.low[module].min(state.index[&target]);
                state.low.insert(module.to_string(), low);
            }
        }
        if state.low[module] == state.index[module] {
            let mut component = Vec::new();
            loop {
                let top = state.stack.pop().expect("on the stack");
                state.on_stack.remove(&top);
                let done = top == module;
                component.push(top);
                if done {
                    break;
                }
            }
            component.sort();
            state.components.push(component);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for module in modules {
        if !state.index.contains_key(module) {
            visit(&mut state, module);
        }
    }
    state.components
}

/// Each component's layer: 0 when it imports nobody outside itself, else
/// one above the highest it imports.
fn layers(components: &[Vec<String>], edges: &Edges) -> Vec<usize> {
    let mut layer_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut layers = Vec::new();
    // Tarjan emits a component after everything it reaches.
    for component in components {
        let layer = component
            .iter()
            .filter_map(|m| edges.get(m))
            .flat_map(|targets| targets.keys())
            .filter(|t| !component.contains(t))
            .map(|t| layer_of[t.as_str()] + 1)
            .max()
            .unwrap_or(0);
        for module in component {
            layer_of.insert(module, layer);
        }
        layers.push(layer);
    }
    layers
}

/// The layers, bottom up, one line each; a circle shows as `[a b c]`.
fn picture(components: &[Vec<String>], layers: &[usize]) -> String {
    let mut by_layer: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (component, &layer) in components.iter().zip(layers) {
        let name = if component.len() > 1 {
            format!("[circle of {}: {}]", component.len(), component.join(" "))
        } else {
            component[0].clone()
        };
        by_layer.entry(layer).or_default().push(name);
    }
    let biggest = components.iter().map(Vec::len).max().unwrap_or(0);
    let mut text = format!(
        "{} modules in {} layers; the biggest strongly connected set has {biggest} module(s)\n",
        components.iter().map(Vec::len).sum::<usize>(),
        by_layer.len()
    );
    for (layer, mut names) in by_layer {
        names.sort();
        text.push_str(&format!("layer {layer}: {}\n", names.join(", ")));
    }
    text
}

/// One shortest circle through the component's first module, as edges.
fn circle(component: &[String], edges: &Edges) -> Vec<(String, String)> {
    let start = &component[0];
    let mut previous: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    while let Some(module) = queue.pop_front() {
        for target in edges.get(&module).into_iter().flat_map(|t| t.keys()) {
            if !component.contains(target) {
                continue;
            }
            if target == start {
                let mut path = vec![(module.clone(), start.clone())];
                let mut at = module.clone();
                while at != *start {
                    let before = previous[&at].clone();
                    path.push((before.clone(), at));
                    at = before;
                }
                path.reverse();
                return path;
            }
            if !previous.contains_key(target) && target != start {
                previous.insert(target.clone(), module.clone());
                queue.push_back(target.clone());
            }
        }
    }
    Vec::new()
}
