//! The shape of `src/`: read from its `use` lines and `crate::` paths, the modules form
//! layers that import only downwards and no module reaches itself through its imports.
//! ARCHITECTURE.md draws the same layers; this test is what keeps the picture true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may import its own layer and those below it. A module
/// belongs to the first entry whose prefix its path starts with (`server::db` before
/// `server`). Within one layer the graph of files must still be free of circles.
const LAYERS: &[(&str, &[&str])] = &[
    ("rules", &["domain"]),
    ("shared types", &["error", "model", "codec", "i18n"]),
    ("storage", &["server::db"]),
    ("platform", &["server::platform"]),
    ("access", &["server::access"]),
    ("metering", &["server::metering"]),
    ("alerting", &["server::alerting"]),
    ("state", &["server::state"]),
    ("http", &["server::http", "server::rest"]),
    ("server functions", &["api"]),
    ("views", &["components"]),
    ("pages", &["pages"]),
    ("app", &["app"]),
    ("process", &["server::process", "server", "main", ""]),
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, prefixes)| {
            prefixes.iter().any(|prefix| {
                module == *prefix
                    || (prefix.is_empty() && module.is_empty())
                    || module.starts_with(&format!("{prefix}::"))
            })
        })
        .unwrap_or_else(|| panic!("module `{module}` is in no layer of architecture.rs"))
}

#[test]
fn modules_import_only_their_own_layer_and_those_below() {
    let graph = ModuleGraph::read(&source_root());
    let mut upward = Vec::new();
    for (from, targets) in &graph.imports {
        for to in targets {
            let (from_layer, to_layer) = (layer_of(from), layer_of(to));
            if to_layer > from_layer {
                upward.push(format!(
                    "{from} ({}) imports {to} ({})",
                    LAYERS[from_layer].0, LAYERS[to_layer].0
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports back up:\n{}", upward.join("\n"));
}

#[test]
fn no_module_reaches_itself_through_its_imports() {
    let graph = ModuleGraph::read(&source_root());
    let circles: Vec<String> = graph
        .strongly_connected()
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| component.join(" <-> "))
        .collect();
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn every_module_opens_with_a_line_saying_what_it_owns() {
    let graph = ModuleGraph::read(&source_root());
    let silent: Vec<&String> = graph
        .files
        .iter()
        .filter(|(_, path)| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|(module, _)| module)
        .collect();
    assert!(
        silent.is_empty(),
        "modules without a `//!` line: {silent:?}"
    );
}

/// A long file is hard to find one's way in: past 700 lines a file says at its top (in its
/// `//!` lines) why it stays whole.
#[test]
fn no_file_passes_700_lines_without_saying_why_it_stays_whole() {
    let graph = ModuleGraph::read(&source_root());
    let long: Vec<String> = graph
        .files
        .values()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let lines = text.lines().count();
            let header: String = text
                .lines()
                .take_while(|line| line.starts_with("//!"))
                .collect::<Vec<_>>()
                .join(" ");
            (lines > 700 && !header.contains("stays whole"))
                .then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "long files that do not say why they stay whole: {long:?}"
    );
}

/// The graph reader must see what it is meant to see, or the two tests above prove nothing.
#[test]
fn the_reader_finds_nested_use_trees_inline_paths_and_super() {
    let modules: BTreeSet<String> = ["a", "a::b", "a::b::c", "d", "e", "a::f"]
        .into_iter()
        .map(String::from)
        .collect();
    let source = r#"
        use crate::{a::{b::{self, c::Thing}}, d as dee};
        use super::f;
        // use crate::e; (a comment)
        const TEXT: &str = "crate::e::x";
        fn go<'a>(x: &'a str) -> char { let _ = crate::e::call(x); '"' }
        #[cfg(test)]
        mod tests { use crate::a::b::c; }
    "#;
    let found = imports_of(source, "a::f::g", &modules);
    let expected: BTreeSet<String> = ["a::b", "a::b::c", "d", "e", "a::f"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

struct ModuleGraph {
    /// Module path (`server::db::users`, `` for lib.rs, `main`) → its file.
    files: BTreeMap<String, PathBuf>,
    /// Module → the modules its non-test code names.
    imports: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleGraph {
    fn read(root: &Path) -> Self {
        let mut files = BTreeMap::new();
        collect_files(root, root, &mut files);
        let modules: BTreeSet<String> = files.keys().cloned().collect();
        let imports = files
            .iter()
            .map(|(module, path)| {
                let source = std::fs::read_to_string(path).expect("a readable source file");
                (module.clone(), imports_of(&source, module, &modules))
            })
            .collect();
        ModuleGraph { files, imports }
    }

    /// Tarjan's strongly connected components, each sorted.
    fn strongly_connected(&self) -> Vec<Vec<String>> {
        struct Walk<'g> {
            graph: &'g ModuleGraph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            components: Vec<Vec<String>>,
        }
        impl<'g> Walk<'g> {
            fn visit(&mut self, node: &'g str) {
                let at = self.index.len();
                self.index.insert(node, at);
                self.low.insert(node, at);
                self.stack.push(node);
                self.on_stack.insert(node);
                let targets = self.graph.imports.get(node).into_iter().flatten();
                for next in targets {
                    if !self.index.contains_key(next.as_str()) {
                        self.visit(next);
                        let low = self.low[node].min(self.low[next.as_str()]);
                        self.low.insert(node, low);
                    } else if self.on_stack.contains(next.as_str()) {
                        let low = self.low[node].min(self.index[next.as_str()]);
                        self.low.insert(node, low);
                    }
                }
                if self.low[node] == self.index[node] {
                    let mut component = Vec::new();
                    while let Some(top) = self.stack.pop() {
                        self.on_stack.remove(top);
                        component.push(top.to_string());
                        if top == node {
                            break;
                        }
                    }
                    component.sort();
                    self.components.push(component);
                }
            }
        }
        let mut walk = Walk {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            components: Vec::new(),
        };
        for module in self.files.keys() {
            if !walk.index.contains_key(module.as_str()) {
                walk.visit(module);
            }
        }
        walk.components
    }
}

fn collect_files(root: &Path, dir: &Path, files: &mut BTreeMap<String, PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable source folder")
        .map(|entry| entry.expect("a folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(root, &path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let relative = path.strip_prefix(root).expect("a file under src");
            let module = relative
                .with_extension("")
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("::");
            let module = if module == "lib" {
                String::new()
            } else {
                module
            };
            files.insert(module, path);
        }
    }
}

/// The modules `source` (the file of `module`) names in its code outside `#[cfg(test)]`
/// modules, other than itself: through `use` trees (nested braces, `self`, `super`) and
/// through paths written inline (`crate::x::y(…)`). A path counts for the longest module
/// it starts with. `main.rs` names the library as `quotaboard::`.
fn imports_of(source: &str, module: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code = without_tests(&code_only(source));
    let here: Vec<&str> = module.split("::").filter(|part| !part.is_empty()).collect();
    let tokens = tokenize(&code);
    let mut paths: Vec<Vec<String>> = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        if tokens[at] == "use" {
            let end = tokens[at..]
                .iter()
                .position(|token| token == ";")
                .map_or(tokens.len(), |offset| at + offset);
            use_tree(&tokens[at + 1..end], &[], &mut paths);
            at = end;
        } else if matches!(tokens[at].as_str(), "crate" | "super" | "quotaboard")
            && tokens.get(at + 1).is_some_and(|token| token == "::")
            && (at == 0 || tokens[at - 1] != "::")
        {
            let mut path = vec![tokens[at].clone()];
            let mut next = at + 1;
            while tokens.get(next).is_some_and(|token| token == "::")
                && tokens.get(next + 1).is_some_and(|token| is_name(token))
            {
                path.push(tokens[next + 1].clone());
                next += 2;
            }
            paths.push(path);
            at = next;
            continue;
        }
        at += 1;
    }
    paths
        .into_iter()
        .filter_map(|path| absolute(&path, &here))
        .filter_map(|path| longest_module(&path, modules))
        .filter(|target| target != module)
        .collect()
}

/// `crate::a`, `super::a`, `self::a`, `quotaboard::a` → the path from the crate root; other
/// paths (std, external crates) → None.
fn absolute(path: &[String], here: &[&str]) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" | "quotaboard" => Vec::new(),
        "self" => here.iter().map(|part| part.to_string()).collect(),
        "super" => {
            let mut parent: Vec<String> = here.iter().map(|part| part.to_string()).collect();
            parent.pop();
            let mut rest = &path[1..];
            while rest.first().is_some_and(|part| part == "super") {
                parent.pop();
                rest = &rest[1..];
            }
            parent.extend(rest.iter().cloned());
            return Some(parent);
        }
        _ => return None,
    };
    base.extend(path[1..].iter().cloned());
    Some(base)
}

fn longest_module(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|length| path[..length].join("::"))
        .find(|candidate| modules.contains(candidate))
}

/// Expands a use tree (`a::{b, c::{self, d}} as e` as tokens) into its full paths.
fn use_tree(tokens: &[String], prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    let mut at = 0;
    while at < tokens.len() {
        let token = tokens[at].as_str();
        match token {
            "::" | "pub" => at += 1,
            "{" => {
                let close = matching_brace(tokens, at);
                for item in split_top_level(&tokens[at + 1..close]) {
                    use_tree(item, &path, out);
                }
                return;
            }
            "as" | "*" => break,
            "self" if !path.is_empty() => at += 1,
            _ => {
                path.push(token.to_string());
                at += 1;
            }
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

fn matching_brace(tokens: &[String], open: usize) -> usize {
    let mut depth = 0;
    for (at, token) in tokens.iter().enumerate().skip(open) {
        match token.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return at;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

fn split_top_level(tokens: &[String]) -> Vec<&[String]> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (at, token) in tokens.iter().enumerate() {
        match token.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "," if depth == 0 => {
                items.push(&tokens[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items.into_iter().filter(|item| !item.is_empty()).collect()
}

fn is_name(token: &str) -> bool {
    token.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Names, `::` and single punctuation characters.
fn tokenize(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut name = c.to_string();
            while let Some(&next) = chars.peek() {
                if next.is_alphanumeric() || next == '_' {
                    name.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(name);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".to_string());
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// The source without comments, string and character literals (kept as empty `""`), so a
/// path written in a comment or a string is not an import.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        if c == '/' && next == Some('/') {
            while at < chars.len() && chars[at] != '\n' {
                at += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while at < chars.len() {
                if chars[at] == '/' && chars.get(at + 1) == Some(&'*') {
                    depth += 1;
                    at += 2;
                } else if chars[at] == '*' && chars.get(at + 1) == Some(&'/') {
                    depth -= 1;
                    at += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    at += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars[..at]
                .last()
                .is_some_and(|before| before.is_alphanumeric() || *before == '_')
        {
            let hashes = chars[at + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(at + 1 + hashes) != Some(&'"') {
                out.push(c);
                at += 1;
                continue;
            }
            at += hashes + 2;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while at < chars.len() && !chars[at..].starts_with(&closing) {
                at += 1;
            }
            at += closing.len();
            out.push_str("\"\"");
        } else if c == '"' {
            at += 1;
            while at < chars.len() && chars[at] != '"' {
                at += if chars[at] == '\\' { 2 } else { 1 };
            }
            at += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a): only the first is
            // closed by a quote within a few characters.
            let close = if next == Some('\\') {
                chars
                    .get(at + 3..)
                    .and_then(|rest| rest.iter().position(|c| *c == '\''))
                    .map(|offset| at + 3 + offset)
            } else if chars.get(at + 2) == Some(&'\'') {
                Some(at + 2)
            } else {
                None
            };
            match close {
                Some(end) => {
                    out.push_str("' '");
                    at = end + 1;
                }
                None => {
                    out.push(c);
                    at += 1;
                }
            }
        } else {
            out.push(c);
            at += 1;
        }
    }
    out
}

/// The code without `#[cfg(test)]` items (test modules may import anything they test).
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(start) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        // The item ends at its `;` or at the `}` closing its first `{`, whichever comes first.
        let mut depth = 0;
        let mut end = after.len();
        for (at, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = at + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = at + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
