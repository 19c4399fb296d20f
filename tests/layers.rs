//! Layers call only downwards: the wire clients (`portal/`, `openlm/`) and what they stand on
//! (`http`, `error`, paging, renewal...) know nothing of the operations above them (the plan
//! engine) or of the sandbox that emulates the servers. Their tests may use either.

use std::fs;
use std::path::{Path, PathBuf};

/// The wire clients' folders: every Rust file under them is checked.
const WIRE_FOLDERS: &[&str] = &["src/portal", "src/openlm", "src/flexnet", "src/http"];

/// The modules the wire clients stand on, at the crate root.
const BASE_FILES: &[&str] = &[
    "src/http.rs",
    "src/http_trust.rs",
    "src/error.rs",
    "src/renewal.rs",
    "src/paging.rs",
    "src/bulk.rs",
    "src/clock.rs",
    "src/files.rs",
    "src/runtime.rs",
];

/// The modules a wire module must not reach.
const ABOVE: &[&str] = &["plan", "sandbox"];

fn rust_files_under(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files_under(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn wire_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for folder in WIRE_FOLDERS {
        rust_files_under(&root.join(folder), &mut files);
    }
    files.extend(
        BASE_FILES
            .iter()
            .map(|f| root.join(f))
            .filter(|p| p.exists()),
    );
    files.sort();
    files
}

/// A file's code without its comments and without the items under `#[cfg(test)]` (a test
/// module's block, or a single item up to its `;`). A `tests.rs` file is a test module's body.
fn code_outside_tests(path: &Path, text: &str) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let code = without_comments_and_literals(text);
    let mut kept = String::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            kept.push_str(line);
            kept.push('\n');
            continue;
        }
        skip_item(&mut lines);
    }
    kept
}

/// `text` with its comments removed and its string and character literals emptied, so that
/// neither a brace nor a path inside them counts.
fn without_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let next = chars.get(i + 1).copied();
        match chars[i] {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                i = end_of_block_comment(&chars, i);
                continue;
            }
            'r' if matches!(next, Some('"' | '#')) && !is_ident(chars.get(i.wrapping_sub(1))) => {
                if let Some(end) = end_of_raw_string(&chars, i) {
                    out.push_str("\"\"");
                    i = end;
                    continue;
                }
            }
            '"' => {
                i = end_of_string(&chars, i);
                out.push_str("\"\"");
                continue;
            }
            '\'' if next == Some('\\') || chars.get(i + 2) == Some(&'\'') => {
                i = end_of_char(&chars, i);
                out.push_str("' '");
                continue;
            }
            _ => {}
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The index after the `*/` closing the (possibly nested) comment opened at `start`.
fn end_of_block_comment(chars: &[char], start: usize) -> usize {
    let (mut i, mut depth) = (start + 2, 1);
    while i < chars.len() && depth > 0 {
        match (chars[i], chars.get(i + 1)) {
            ('/', Some('*')) => (depth, i) = (depth + 1, i + 2),
            ('*', Some('/')) => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
    }
    i
}

/// The index after the closing quote of the string opened at `start`.
fn end_of_string(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The index after a raw string `r#"..."#` starting at `start`, if one starts there.
fn end_of_raw_string(chars: &[char], start: usize) -> Option<usize> {
    let hashes = chars[start + 1..].iter().take_while(|c| **c == '#').count();
    let open = start + 1 + hashes;
    if chars.get(open) != Some(&'"') {
        return None;
    }
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    (open + 1..chars.len())
        .find(|&i| chars[i..].starts_with(&close))
        .map(|i| i + close.len())
        .or(Some(chars.len()))
}

/// The index after the closing quote of the character literal opened at `start`.
fn end_of_char(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '\'' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Skip the next item: up to a `;` at depth 0, or to the `}` that closes its first `{`.
fn skip_item<'a>(lines: &mut impl Iterator<Item = &'a str>) {
    let mut depth = 0i64;
    let mut opened = false;
    for line in lines {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                ';' if !opened && depth == 0 => return,
                _ => {}
            }
        }
        if opened && depth <= 0 {
            return;
        }
    }
}

/// Where `code` names a module above the wire: `crate::plan`, `crate::sandbox`, or either
/// inside a `use crate::{...}` group.
fn reaches_above(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let flat: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for module in ABOVE {
        for prefix in ["crate::", "super::super::"] {
            let path = format!("{prefix}{module}");
            let mut rest = flat.as_str();
            while let Some(at) = rest.find(&path) {
                let after = &rest[at + path.len()..];
                if !after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                    found.push(path.clone());
                }
                rest = after;
            }
        }
    }
    let mut rest = flat.as_str();
    while let Some(at) = rest.find("crate::{") {
        let group = &rest[at + "crate::{".len()..];
        let end = group.find(';').unwrap_or(group.len());
        let names = group[..end].split(|c: char| !(c.is_alphanumeric() || c == '_'));
        for name in names {
            if ABOVE.contains(&name) {
                found.push(format!("crate::{{{name}...}}"));
            }
        }
        rest = group;
    }
    found
}

#[test]
fn the_checker_sees_what_it_looks_for() {
    let path = Path::new("src/portal/example.rs");
    let code = |text: &str| reaches_above(&code_outside_tests(path, text));
    assert_eq!(code("use crate::plan;\n"), ["crate::plan"]);
    assert_eq!(
        code("use crate::{\n    bulk,\n    plan,\n};\n"),
        ["crate::{plan...}"]
    );
    assert_eq!(
        code("let x = crate::sandbox::portal::f();\n"),
        ["crate::sandbox"]
    );
    assert!(code("use crate::planning;\n").is_empty());
    assert!(code("// crate::plan is above\n").is_empty());
    assert!(code("/* crate::plan */ let s = \"crate::sandbox {\";\n").is_empty());
    assert_eq!(
        code("#[cfg(test)]\nmod tests {\n    const S: &str = \"}\";\n    const C: char = '}';\n}\nuse crate::plan;\n"),
        ["crate::plan"]
    );
    assert_eq!(
        code("#[cfg(test)]\nmod tests {\n    const S: &str = r#\"{\"#;\n}\nuse crate::plan;\n"),
        ["crate::plan"]
    );
    assert!(code("#[cfg(test)]\nmod tests {\n    use crate::plan;\n    fn f() {}\n}\n").is_empty());
    assert!(code("#[cfg(test)]\nuse crate::sandbox::x;\n").is_empty());
    assert_eq!(
        code("#[cfg(test)]\nmod tests {\n}\nuse crate::plan;\n"),
        ["crate::plan"]
    );
}

#[test]
fn no_wire_module_imports_the_plan_engine_or_the_sandbox() {
    let files = wire_files();
    assert!(files.len() > 20, "the wire files were not found: {files:?}");
    let mut offences = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).unwrap();
        for reached in reaches_above(&code_outside_tests(path, &text)) {
            offences.push(format!("{} uses {reached}", path.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "wire modules reach above their layer:\n{}",
        offences.join("\n")
    );
}
