//! Reading a helper inline is exact: a random body with one of its `let`s
//! moved into a helper (`let w = e;` → `let w = h(free variables of e);`,
//! `fn h(…) { e }`) must expand to the same generated function, token for
//! token, as the body as written — in loops, branches and closures too. The
//! random bodies are those of `random_tests` (checked there against finite
//! differences), so this carries their checks over to helpers.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::{Calls, Helper};
use crate::attr::Kind;
use crate::random_tests::generate;
use crate::steps::{self, Step};

/// The names an expression reads that it does not bind itself.
#[derive(Default)]
struct FreeNames {
    names: Vec<String>,
    bound: Vec<String>,
    reads_self: bool,
}

impl<'a> Visit<'a> for FreeNames {
    fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
        if let Some(ident) = p.path.get_ident() {
            let name = ident.to_string();
            // (`map(sigmoid)` passes a function, not a variable.)
            let function = super::RUNTIME_FUNCTIONS.contains(&name.as_str());
            if name == "self" {
                self.reads_self = true;
            } else if !function && !self.bound.contains(&name) && !self.names.contains(&name) {
                self.names.push(name);
            }
        }
    }
    fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
        // (The function's name is not a variable: `convert(2.0)`.)
        for a in &c.args {
            self.visit_expr(a);
        }
    }
    fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
        let bound: Vec<String> = c
            .inputs
            .iter()
            .flat_map(crate::signature::pattern_names)
            .map(|i| i.to_string())
            .collect();
        let before = self.bound.len();
        self.bound.extend(bound);
        self.visit_expr(&c.body);
        self.bound.truncate(before);
    }
    fn visit_expr_field(&mut self, f: &'a syn::ExprField) {
        self.visit_expr(&f.base);
    }
}

/// Moves the initializer of the `k`-th `let` (counting those with a plain
/// name, in loops and branches too) into the helper `__h`; returns the helper.
struct Outline {
    k: usize,
    seen: usize,
    helper: Option<syn::ItemFn>,
}

impl VisitMut for Outline {
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        let plain = matches!(&local.pat, syn::Pat::Ident(_));
        if let (true, Some(init)) = (plain, &mut local.init) {
            if self.seen == self.k && self.helper.is_none() {
                let mut free = FreeNames::default();
                free.visit_expr(&init.expr);
                if !free.reads_self && !free.names.is_empty() {
                    let expr = &init.expr;
                    let names: Vec<syn::Ident> = free
                        .names
                        .iter()
                        .map(|n| syn::Ident::new(n, proc_macro2::Span::call_site()))
                        .collect();
                    self.helper = Some(syn::parse_quote! {
                        fn __h(#(#names: f64),*) -> f64 { #expr }
                    });
                    *init.expr = syn::parse_quote!(__h(#(#names),*));
                }
            }
            self.seen += 1;
        }
        syn::visit_mut::visit_local_mut(self, local);
    }
}

/// The generated `_grad` function in an expansion's output.
fn generated(out: TokenStream) -> String {
    let file: syn::File = syn::parse2(out).expect("an expansion parses");
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident.to_string().ends_with("_grad") => {
                Some(f.to_token_stream().to_string())
            }
            _ => None,
        })
        .expect("a generated function")
}

#[test]
fn reading_a_helper_inline_is_exact() {
    // The number of bodies with a helper to check.
    let cases: usize = std::env::var("MATGRAD_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(2_000);
    let (mut same, mut nothing) = (0, 0);
    let mut failures = Vec::new();
    for seed in 0.. {
        if same + failures.len() == cases {
            break;
        }
        let (fx, program) = generate(seed);
        let text = fx.function(&program.render(fx.style()));
        let func: syn::ItemFn = syn::parse_str(&text).expect("a function");
        let attr: TokenStream = func
            .sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                syn::FnArg::Typed(t) => Some(t.pat.to_token_stream().to_string()),
                syn::FnArg::Receiver(_) => None,
            })
            .collect::<Vec<_>>()
            .join(", ")
            .parse()
            .expect("tokens");
        // Count the `let`s first, then move one drawn by the seed.
        let mut count = Outline {
            k: usize::MAX,
            seen: 0,
            helper: None,
        };
        count.visit_item_fn_mut(&mut func.clone());
        let mut outlined = func.clone();
        let mut outline = Outline {
            k: (seed as usize).wrapping_mul(7919) % count.seen.max(1),
            seen: 0,
            helper: None,
        };
        outline.visit_item_fn_mut(&mut outlined);
        let Some(helper) = outline.helper else {
            nothing += 1;
            continue;
        };
        let expected = steps::run(
            Kind::Grad,
            attr.clone(),
            func.to_token_stream(),
            Calls::runtime_known(),
            Step::First,
        );
        let mut calls = Calls::runtime_known();
        // (The helper's own bare runtime names, as the lookup from its module would find them.)
        let in_helper: Vec<String> = (calls.runtime.iter())
            .map(|n| format!("__h::{n}"))
            .collect();
        calls.runtime.extend(in_helper);
        calls.helpers.push(Helper {
            key: "__h".to_owned(),
            func: helper.clone(),
        });
        let got = steps::run(
            Kind::Grad,
            attr,
            outlined.to_token_stream(),
            calls,
            Step::First,
        );
        let (expected, got) = (generated(expected), generated(got));
        if expected == got {
            same += 1;
        } else {
            failures.push(format!(
                "case {seed}: {}\n  helper: {}\n  expected: {expected}\n  got: {got}",
                outlined.to_token_stream(),
                helper.to_token_stream()
            ));
        }
    }
    println!("helpers read inline: {same} identical, {nothing} bodies without a `let` to move");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
