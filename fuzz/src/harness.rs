//! One fuzz case: decode the bytes, run the attribute's expansion, judge the
//! output.
//!
//! # Input format
//!
//! ```text
//! byte 0        which attribute: b'h' = #[hessian], b'j' = #[jacobian], any other = #[grad]
//! up to '\n'    the attribute's tokens, as between the parentheses of #[grad(...)]
//! the rest      the item the attribute is on (a function, normally)
//! ```
//!
//! Both parts must be UTF-8 and lex as a `proc_macro2::TokenStream`, and the
//! item must parse as something the compiler could put an attribute on (an
//! item, an impl item, a trait item or a foreign item): anything else never
//! reaches a proc macro, so it is skipped, not judged. So is an input nested
//! more than [`MAX_DEPTH`] groups deep (a limit of syn, not of matgrad).
//!
//! # What is checked
//!
//! 1. The expansion does not panic.
//! 2. Its output parses: as a file's items (and, for a function, also as the
//!    items of an `impl` block, where methods and associated functions are
//!    expanded); for an input that is only an impl / trait / foreign item, as
//!    a sequence of those.
//! 3. For a function input: the function itself is kept in the output, and
//!    when the output holds no `compile_error!`, the generated
//!    `<name>_grad` / `<name>_hessian` / `<name>_jacobian` is there.
//! 4. Optionally ([`Options::determinism`]): a second expansion of the same
//!    input gives the same tokens.

use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};

/// Which attribute expands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Grad,
    Hessian,
    Jacobian,
}

impl Kind {
    pub fn from_byte(b: u8) -> Kind {
        match b {
            b'h' => Kind::Hessian,
            b'j' => Kind::Jacobian,
            _ => Kind::Grad,
        }
    }

    pub fn byte(self) -> u8 {
        match self {
            Kind::Grad => b'g',
            Kind::Hessian => b'h',
            Kind::Jacobian => b'j',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Grad => "grad",
            Kind::Hessian => "hessian",
            Kind::Jacobian => "jacobian",
        }
    }

    pub const ALL: [Kind; 3] = [Kind::Grad, Kind::Hessian, Kind::Jacobian];
}

/// A decoded fuzz case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Input {
    pub kind: Kind,
    pub attr: String,
    pub item: String,
}

impl Input {
    /// Decodes the byte format above; `None` for empty or non-UTF-8 input.
    pub fn decode(bytes: &[u8]) -> Option<Input> {
        let (&k, rest) = bytes.split_first()?;
        let text = std::str::from_utf8(rest).ok()?;
        let (attr, item) = text.split_once('\n').unwrap_or((text, ""));
        Some(Input {
            kind: Kind::from_byte(k),
            attr: attr.to_owned(),
            item: item.to_owned(),
        })
    }

    /// The byte format above. An attribute with a newline in it (only inside
    /// a literal) has the newline replaced by a space.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.kind.byte()];
        out.extend(self.attr.replace(['\n', '\r'], " ").bytes());
        out.push(b'\n');
        out.extend(self.item.bytes());
        out
    }

    /// How the case reads as Rust, for reports.
    pub fn display(&self) -> String {
        let attr = self.attr.trim();
        let attr = if attr.is_empty() {
            String::new()
        } else {
            format!("({attr})")
        };
        format!("#[{}{}]\n{}", self.kind.name(), attr, self.item)
    }
}

/// Where the compiler could have met the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// A free function, or an associated function without `self`: valid as
    /// an item and as an impl item, and its output must be valid as both.
    Function,
    /// A function with a `self` receiver: only in an `impl` (or trait).
    Method,
    /// Another item (struct, const, ...).
    Item,
    ImplItem,
    TraitItem,
    ForeignItem,
}

/// What a run found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not an input a proc macro could receive.
    Skipped(&'static str),
    /// Expanded to valid output; `errors` when it holds a `compile_error!`.
    Ok { errors: bool },
    /// A bug.
    Finding(Finding),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// The expansion panicked.
    Panic,
    /// The output is not valid Rust in the item's position.
    InvalidOutput,
    /// The function or its generated derivative function is missing.
    MissingFunction,
    /// Two expansions of the same input differ.
    Nondeterministic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// The panic message, or what is wrong with the output.
    pub message: String,
    /// `file:line:col` of the panic.
    pub location: Option<String>,
    /// The output, when there is one (truncated).
    pub output: Option<String>,
}

impl Finding {
    /// What identifies the bug across inputs: kind and panic location (or the
    /// first words of the message when there is no location).
    pub fn signature(&self) -> String {
        match &self.location {
            Some(loc) => format!("{:?}@{loc}", self.kind),
            None if self.kind == FindingKind::Nondeterministic => format!("{:?}", self.kind),
            None => {
                let head: String = self.message.chars().take(60).collect();
                format!("{:?}:{head}", self.kind)
            }
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)?;
        if let Some(loc) = &self.location {
            write!(f, " at {loc}")?;
        }
        if let Some(out) = &self.output {
            write!(f, "\noutput: {out}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Catch panics and report them as findings (the stress driver); when
    /// false a panic propagates (libFuzzer, whose hook aborts on it).
    pub catch: bool,
    /// Expand twice and compare.
    pub determinism: bool,
}

thread_local! {
    static CAPTURING: RefCell<bool> = const { RefCell::new(false) };
    static CAUGHT: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs (once) a panic hook that records message and location while a
/// case runs under [`Options::catch`], and defers to the previous hook
/// otherwise.
fn install_hook() {
    HOOK.call_once(|| {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(|c| *c.borrow()) {
                let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                    (*s).to_owned()
                } else if let Some(s) = info.payload().downcast_ref::<String>() {
                    s.clone()
                } else {
                    "<non-string panic payload>".to_owned()
                };
                let mut loc = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                // A panic inside a dependency (proc-macro2, syn): name the
                // macro's own frame that led there.
                if !loc.contains("macros/src/") {
                    let bt = std::backtrace::Backtrace::force_capture().to_string();
                    if let Some(frame) = bt
                        .lines()
                        .map(str::trim)
                        .find_map(|l| l.strip_prefix("at ").filter(|f| f.contains("macros/src/")))
                    {
                        loc = format!("{loc} via {frame}");
                    }
                }
                CAUGHT.with(|c| *c.borrow_mut() = Some((msg, short_path(&loc))));
            } else {
                prev(info);
            }
        }));
    });
}

/// `.../macros/src/x.rs` → `macros/src/x.rs`; a registry path → `crate-1.2.3/src/x.rs`.
fn short_path(loc: &str) -> String {
    loc.split(' ')
        .map(|part| {
            if let Some(i) = part.find("macros/src/") {
                part[i..].to_owned()
            } else if let Some(i) = part.find("/index.crates.io-") {
                let rest = &part[i + 1..];
                rest.split_once('/').map_or(rest, |(_, r)| r).to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Calls the attribute's entry point.
pub fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let kind = match kind {
        Kind::Grad => crate::attr::Kind::Grad,
        Kind::Hessian => crate::attr::Kind::Hessian,
        Kind::Jacobian => crate::attr::Kind::Jacobian,
    };
    crate::steps::expand(kind, attr, item)
}

/// Groups nested deeper than this are skipped: syn's recursive-descent parser
/// (here and in the macro) overflows an 8 MiB stack at about 5,000 nested
/// parentheses, a limit of every syn-based macro, not of matgrad's code.
pub const MAX_DEPTH: usize = 1000;

fn depth(ts: &TokenStream) -> usize {
    ts.clone()
        .into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => 1 + depth(&g.stream()),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// The item's context and, for a function with a body, its name.
fn classify(item: &TokenStream) -> Option<(Context, Option<String>)> {
    if let Ok(it) = syn::parse2::<syn::Item>(item.clone()) {
        return Some(match it {
            syn::Item::Fn(f) => {
                let name = Some(f.sig.ident.to_string());
                if f.sig.receiver().is_some() {
                    (Context::Method, name)
                } else {
                    (Context::Function, name)
                }
            }
            _ => (Context::Item, None),
        });
    }
    if let Ok(it) = syn::parse2::<syn::ImplItem>(item.clone()) {
        let name = match &it {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        };
        return Some((Context::ImplItem, name));
    }
    if syn::parse2::<syn::TraitItem>(item.clone()).is_ok() {
        return Some((Context::TraitItem, None));
    }
    if syn::parse2::<syn::ForeignItem>(item.clone()).is_ok() {
        return Some((Context::ForeignItem, None));
    }
    None
}

fn parse_many<T: syn::parse::Parse>(tokens: TokenStream) -> syn::Result<Vec<T>> {
    let parser = |input: ParseStream| {
        let mut out = Vec::new();
        while !input.is_empty() {
            out.push(input.parse::<T>()?);
        }
        Ok(out)
    };
    parser.parse2(tokens)
}

fn fn_names_in_file(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|it| match it {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

fn fn_names_in_impl(items: &[syn::ImplItem]) -> Vec<String> {
    items
        .iter()
        .filter_map(|it| match it {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        s.to_owned()
    } else {
        let mut end = n;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &s[..end], s.len())
    }
}

fn invalid(kind: FindingKind, message: String, output: &str) -> Verdict {
    Verdict::Finding(Finding {
        kind,
        message,
        location: None,
        output: Some(truncate(output, 2000)),
    })
}

/// Judges one output.
fn judge(kind: Kind, ctx: Context, name: Option<&str>, out: TokenStream) -> Verdict {
    let text = out.to_string();
    let names = match ctx {
        Context::Function | Context::Item => match syn::parse2::<syn::File>(out.clone()) {
            Ok(file) => fn_names_in_file(&file),
            Err(e) => {
                let msg = format!("output is not valid items: {e}");
                return invalid(FindingKind::InvalidOutput, msg, &text);
            }
        },
        _ => Vec::new(),
    };
    let names = match ctx {
        Context::Function | Context::Method | Context::ImplItem => {
            match parse_many::<syn::ImplItem>(out.clone()) {
                Ok(items) => {
                    let mut n = fn_names_in_impl(&items);
                    n.extend(names);
                    n
                }
                Err(e) => {
                    let msg = format!("output is not valid impl items: {e}");
                    return invalid(FindingKind::InvalidOutput, msg, &text);
                }
            }
        }
        Context::TraitItem => match parse_many::<syn::TraitItem>(out.clone()) {
            Ok(_) => names,
            Err(e) => {
                let msg = format!("output is not valid trait items: {e}");
                return invalid(FindingKind::InvalidOutput, msg, &text);
            }
        },
        Context::ForeignItem => match parse_many::<syn::ForeignItem>(out.clone()) {
            Ok(_) => names,
            Err(e) => {
                let msg = format!("output is not valid foreign items: {e}");
                return invalid(FindingKind::InvalidOutput, msg, &text);
            }
        },
        Context::Item => names,
    };
    let errors = text.contains("compile_error");
    if let Some(name) = name {
        if !names.iter().any(|n| n == name) {
            let msg = format!("the function `{name}` is not kept in the output");
            return invalid(FindingKind::MissingFunction, msg, &text);
        }
        // A raw name `r#fn` gives the plain `fn_grad`, which is no keyword.
        let generated = format!("{}_{}", name.trim_start_matches("r#"), kind.name());
        if !errors && !names.iter().any(|n| *n == generated) {
            let msg = format!("no `compile_error!` and no `{generated}` in the output");
            return invalid(FindingKind::MissingFunction, msg, &text);
        }
    }
    Verdict::Ok { errors }
}

/// Runs the expansion once, catching a panic when asked.
fn run_once(kind: Kind, attr: &TokenStream, item: &TokenStream, catch: bool) -> Result<TokenStream, Finding> {
    if !catch {
        return Ok(expand(kind, attr.clone(), item.clone()));
    }
    install_hook();
    CAPTURING.with(|c| *c.borrow_mut() = true);
    CAUGHT.with(|c| *c.borrow_mut() = None);
    let res = panic::catch_unwind(AssertUnwindSafe(|| expand(kind, attr.clone(), item.clone())));
    CAPTURING.with(|c| *c.borrow_mut() = false);
    res.map_err(|_| {
        let (message, location) = CAUGHT
            .with(|c| c.borrow_mut().take())
            .unwrap_or_else(|| ("<panic not captured>".into(), String::new()));
        Finding {
            kind: FindingKind::Panic,
            message,
            location: (!location.is_empty()).then_some(location),
            output: None,
        }
    })
}

/// Runs one case.
pub fn check(input: &Input, opts: Options) -> Verdict {
    let Ok(attr) = input.attr.parse::<TokenStream>() else {
        return Verdict::Skipped("attribute does not lex");
    };
    let Ok(item) = input.item.parse::<TokenStream>() else {
        return Verdict::Skipped("item does not lex");
    };
    if depth(&item) > MAX_DEPTH || depth(&attr) > MAX_DEPTH {
        return Verdict::Skipped("nested deeper than syn can parse");
    }
    let Some((ctx, name)) = classify(&item) else {
        return Verdict::Skipped("not an item");
    };
    let out = match run_once(input.kind, &attr, &item, opts.catch) {
        Ok(out) => out,
        Err(f) => return Verdict::Finding(f),
    };
    let verdict = judge(input.kind, ctx, name.as_deref(), out.clone());
    if opts.determinism && matches!(verdict, Verdict::Ok { .. }) {
        match run_once(input.kind, &attr, &item, opts.catch) {
            Ok(again) => {
                let (a, b) = (out.to_string(), again.to_string());
                if a != b {
                    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                    let from = at.saturating_sub(80);
                    let msg = format!(
                        "two expansions differ from byte {at}: `{}` vs `{}`",
                        truncate(&a[from..], 240),
                        truncate(&b[from..], 240)
                    );
                    return invalid(FindingKind::Nondeterministic, msg, &a);
                }
            }
            Err(f) => return Verdict::Finding(f),
        }
    }
    verdict
}

/// Runs the byte-format case (libFuzzer entry point): panics on a finding.
pub fn check_bytes(data: &[u8]) {
    let Some(input) = Input::decode(data) else {
        return;
    };
    let opts = Options {
        catch: false,
        determinism: false,
    };
    if let Verdict::Finding(f) = check(&input, opts) {
        panic!("matgrad-macros finding on\n{}\n---\n{f}", input.display());
    }
}
