//! The layers hold: every file under `src/` belongs to a layer, imports
//! only the layers below it (ARCHITECTURE.md), and the store and the
//! engine know no wire format. Read from the source as text, so a new
//! import against the layers fails here with its file and line.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// Each layer, top first, with the layers it may import.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "cli",
        &[
            "app", "gateway", "channels", "web", "engine", "casework", "store", "text", "domain",
        ],
    ),
    (
        "app",
        &[
            "gateway", "channels", "web", "engine", "casework", "store", "text", "domain",
        ],
    ),
    (
        "gateway",
        &["channels", "engine", "casework", "store", "text", "domain"],
    ),
    (
        "channels",
        &["engine", "casework", "store", "text", "domain"],
    ),
    // The staff web view and API, beside the channels: no engine, no gateway.
    ("web", &["casework", "store", "text", "domain"]),
    ("engine", &["text", "domain"]),
    ("casework", &["store", "text", "domain"]),
    ("store", &["domain"]),
    ("text", &["domain"]),
    ("domain", &[]),
];

/// Files at the crate's root, which may name every layer.
const ROOT_FILES: &[&str] = &["lib.rs", "main.rs"];

/// Words of a wire format, which neither the store nor the engine may say
/// (compared without case).
const WIRE_WORDS: &[&str] = &["twilio", "africastalking", "africa's talking", "twiml"];
/// The USSD reply's prefixes, compared as written.
const WIRE_PREFIXES: &[&str] = &["CON ", "END "];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path under `src/` (`store/cases.rs` is `store::cases`,
/// `store/mod.rs` is `store`).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// The code without its comments (line comments and doc comments; the
/// crate has no block comments).
fn code_of(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let code = match line.find("//") {
                // A `//` inside a string (a URL) is kept: strings hold no paths.
                Some(at) if !line[..at].contains('"') => &line[..at],
                _ => line,
            };
            (i + 1, code.to_string())
        })
        .collect()
}

/// The top-level layers a line's paths reach: `crate::x`, `$crate::x`,
/// `crate::{x::.., y}`, and `super::` chains that climb to the root.
fn layers_named(line: &str, module: &[String], rest_of_file: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut search = line;
    while let Some(at) = search.find("crate::") {
        let after = &search[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // A `use crate::{...}` group, perhaps spread over lines.
            let whole = [group, rest_of_file].concat();
            found.extend(top_level_names(&whole));
        } else {
            found.push(ident(after));
        }
        search = after;
    }
    // `super::super::x` from deep enough reaches the root's `x`.
    let mut search = line;
    while let Some(at) = search.find("super::") {
        let before = &search[..at];
        if before.ends_with("super::") || before.ends_with(':') {
            search = &search[at + 7..];
            continue;
        }
        let mut rest = &search[at..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        if up == module.len() {
            found.push(ident(rest));
        }
        search = &search[at + 7..];
    }
    found.retain(|n| !n.is_empty());
    found
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The first names of each path in a `{...}` group (its text from just
/// after the opening brace).
fn top_level_names(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut at_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            c if at_start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                names.push(ident(&group[i..]));
                at_start = false;
            }
            _ => {}
        }
    }
    names
}

struct File {
    rel: PathBuf,
    layer: Option<&'static str>,
    module: Vec<String>,
    text: String,
}

fn files() -> Vec<File> {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(src()).expect("under src").to_path_buf();
            let top = rel
                .iter()
                .next()
                .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
                .unwrap_or_default();
            File {
                layer: LAYERS.iter().map(|(l, _)| *l).find(|l| *l == top),
                module: module_path(&rel),
                text: fs::read_to_string(&p).expect("read"),
                rel,
            }
        })
        .collect()
}

#[test]
fn every_file_belongs_to_a_layer() {
    let strays: Vec<_> = files()
        .into_iter()
        .filter(|f| f.layer.is_none() && !ROOT_FILES.contains(&&*f.rel.to_string_lossy()))
        .map(|f| f.rel.display().to_string())
        .collect();
    assert!(
        strays.is_empty(),
        "files outside every layer (put them in one, or add the layer to LAYERS and ARCHITECTURE.md): {strays:?}"
    );
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let all: BTreeSet<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    let mut against = Vec::new();
    let mut seen_any = 0;
    for f in files() {
        let Some(layer) = f.layer else { continue };
        let allowed = LAYERS
            .iter()
            .find(|(l, _)| *l == layer)
            .map(|(_, a)| *a)
            .unwrap_or(&[]);
        let code = code_of(&f.text);
        for (k, (line_no, line)) in code.iter().enumerate() {
            let rest: String = code[k + 1..]
                .iter()
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            for named in layers_named(line, &f.module, &rest) {
                if !all.contains(named.as_str()) || named == layer {
                    continue;
                }
                seen_any += 1;
                if !allowed.contains(&named.as_str()) {
                    against.push(format!(
                        "src/{}:{line_no}: {layer} imports {named}",
                        f.rel.display()
                    ));
                }
            }
        }
    }
    assert!(
        seen_any > 50,
        "the scan found almost no imports: {seen_any}"
    );
    assert!(
        against.is_empty(),
        "imports against the layers:\n{}",
        against.join("\n")
    );
}

#[test]
fn the_store_and_the_engine_know_no_wire_format() {
    let mut said = Vec::new();
    for f in files() {
        if !matches!(f.layer, Some("store" | "engine")) {
            continue;
        }
        for (i, line) in f.text.lines().enumerate() {
            let lower = line.to_lowercase();
            let words = WIRE_WORDS.iter().filter(|w| lower.contains(*w));
            let prefixes = WIRE_PREFIXES.iter().filter(|p| line.contains(*p));
            for w in words.chain(prefixes) {
                said.push(format!("src/{}:{}: `{w}`", f.rel.display(), i + 1));
            }
        }
    }
    assert!(said.is_empty(), "wire-format words:\n{}", said.join("\n"));
}

#[test]
fn the_scan_reads_groups_and_super_paths() {
    let module = ["gateway".to_string(), "twilio".to_string()];
    assert_eq!(
        layers_named("use crate::{", &module, "domain::Phone, store::{A, B},\n};"),
        ["domain", "store"]
    );
    assert_eq!(
        layers_named("use super::super::channels::Channels;", &module, ""),
        ["channels"]
    );
    assert!(layers_named("use super::signature;", &module, "").is_empty());
    assert_eq!(
        layers_named("x: $crate::store::dialect::Claim {", &module, ""),
        ["store"]
    );
    assert_eq!(code_of("let a = 1; // crate::app")[0].1, "let a = 1; ");
}
