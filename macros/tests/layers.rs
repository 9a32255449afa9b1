//! The macro's modules import downward only: each reads the layers below it
//! and none above, so a stage can be read, tested and changed knowing only
//! what lies under it. A new module must be given its place here. The parts
//! of `ir` are layers of their own (`ir/graph` is `ir/graph.rs`, `ir` alone
//! its `mod.rs`, which binds the parts together).

use std::collections::BTreeSet;
use std::path::Path;

/// The top-level modules of `src/`, lowest first. A module may import from
/// the layers below its own, not from its own layer nor any above.
const LAYERS: &[&[&str]] = &[
    // vocabulary: errors, the names of nodes, formulas as text
    &["errors", "id", "notation"],
    &["shape"],
    // how values are written in the generated code
    &["code"],
    // the graph, its operations, their canonical forms, and the three bound
    &["ir/graph"],
    &["ir/ops"],
    &["ir/simplify"],
    &["ir"],
    // stages on the graph, and the attribute's arguments
    &[
        "signature",
        "diff",
        "share",
        "plan",
        "batch",
        "formula",
        "attr",
    ],
    &["emit", "kron_form", "compose"],
    // the body language, read into the graph
    &["parse"],
    // the generated functions: the gradient, then Hessians and Jacobians
    &["expand"],
    &["derivatives"],
    // the expansion, step by step
    &["steps"],
];

/// Modules compiled only for the crate's own tests, which may import anything.
fn test_only(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.ends_with("tests.rs") || matches!(name, "eval.rs" | "eval_complex.rs")
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The module a file belongs to: its top-level module, or the part of `ir`.
fn module_of(file: &str) -> String {
    let mut parts = file.trim_end_matches(".rs").split('/');
    let top = parts.next().unwrap_or_default();
    match (top, parts.next()) {
        ("ir", Some(part)) if part != "mod" => format!("ir/{part}"),
        _ => top.to_owned(),
    }
}

/// The modules a file names through `crate::…` (a part of `ir` by its path),
/// comments left out.
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                found.insert(leading_name(item.trim()));
            }
        } else {
            let name = leading_name(rest);
            let part = rest[name.len()..].strip_prefix("::").map(leading_name);
            found.insert(match part {
                Some(part)
                    if name == "ir" && matches!(part.as_str(), "graph" | "ops" | "simplify") =>
                {
                    format!("ir/{part}")
                }
                _ => name,
            });
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

fn leading_name(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_import_only_from_the_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut checked = 0;
    for path in &files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "lib.rs" || test_only(&rel) {
            continue;
        }
        let module = module_of(&rel);
        let Some(own) = layer_of(&module) else {
            violations.push(format!("{rel}: module `{module}` has no place in LAYERS"));
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(path).unwrap();
        for name in imports(&text) {
            if name == module {
                continue;
            }
            match layer_of(&name) {
                Some(layer) if layer < own => {}
                Some(_) => {
                    violations.push(format!("{rel}: `{module}` imports `{name}`, not below it"))
                }
                None => violations.push(format!(
                    "{rel}: imports `crate::{name}`, which has no place in LAYERS"
                )),
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} files checked: is `src/` where it was?"
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_import_reader_sees_paths_and_groups() {
    let text = "use crate::ir::{Graph, Id};\nuse crate::{diff, formula};\n// crate::steps\nlet s = \"crate::\";\nuse crate::ir::ops::Op;";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["diff", "formula", "ir", "ir/ops"]);
    assert_eq!(module_of("ir/ops/linalg.rs"), "ir/ops");
    assert_eq!(module_of("ir/mod.rs"), "ir");
    assert_eq!(module_of("emit/rows.rs"), "emit");
}
