//! Builds the seed corpus: every function annotated `#[grad]`, `#[hessian]` or
//! `#[jacobian]` (any path ending so) in the given Rust files, at any depth
//! (modules, impl blocks, function bodies), written in the fuzz input format
//! of `matgrad_fuzz::harness` — kind byte, attribute tokens, newline, item —
//! with the annotation removed and every other attribute kept.
//!
//! `cargo run --release --bin extract_seeds -- OUT_DIR FILE...`

use std::collections::BTreeSet;
use std::path::Path;

use matgrad_fuzz::harness::{Input, Kind};
use quote::ToTokens;
use syn::visit::Visit;

struct Collect {
    stem: String,
    out: Vec<(String, Input)>,
}

impl Collect {
    fn take(&mut self, attrs: &[syn::Attribute], item: impl Fn(Vec<syn::Attribute>) -> String, name: String) {
        for (i, a) in attrs.iter().enumerate() {
            let Some(last) = a.path().segments.last() else { continue };
            let kind = match last.ident.to_string().as_str() {
                "grad" => Kind::Grad,
                "hessian" => Kind::Hessian,
                "jacobian" => Kind::Jacobian,
                _ => continue,
            };
            let attr = match &a.meta {
                syn::Meta::List(l) => l.tokens.to_string(),
                _ => String::new(),
            };
            let mut rest = attrs.to_vec();
            rest.remove(i);
            let seed = Input { kind, attr, item: item(rest) };
            self.out.push((format!("{}__{}__{}", self.stem, name, kind.name()), seed));
        }
    }
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.take(
            &f.attrs,
            |attrs| {
                let mut g = f.clone();
                g.attrs = attrs;
                g.to_token_stream().to_string()
            },
            f.sig.ident.to_string(),
        );
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.take(
            &f.attrs,
            |attrs| {
                let mut g = f.clone();
                g.attrs = attrs;
                g.to_token_stream().to_string()
            },
            f.sig.ident.to_string(),
        );
        syn::visit::visit_impl_item_fn(self, f);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out_dir, files)) = args.split_first() else {
        eprintln!("usage: extract_seeds OUT_DIR FILE...");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out_dir).expect("create OUT_DIR");
    let mut seen = BTreeSet::new();
    let mut names = BTreeSet::new();
    let (mut written, mut dup) = (0, 0);
    for file in files {
        let path = Path::new(file);
        let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let Ok(ast) = syn::parse_file(&src) else {
            eprintln!("skipping {file}: does not parse");
            continue;
        };
        let dir = path.parent().and_then(|p| p.file_name()).map(|s| s.to_string_lossy().into_owned());
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let stem = match dir.as_deref() {
            Some("tests") | None => stem,
            Some(d) => format!("{d}-{stem}"),
        };
        let mut c = Collect { stem, out: Vec::new() };
        c.visit_file(&ast);
        for (name, seed) in c.out {
            let bytes = seed.encode();
            if !seen.insert(bytes.clone()) {
                dup += 1;
                continue;
            }
            let mut unique = name.clone();
            let mut k = 2;
            while !names.insert(unique.clone()) {
                unique = format!("{name}_{k}");
                k += 1;
            }
            std::fs::write(Path::new(out_dir).join(unique), bytes).expect("write seed");
            written += 1;
        }
    }
    eprintln!("{written} seeds written to {out_dir} ({dup} duplicates skipped)");
}
