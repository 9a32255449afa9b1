//! Structure-aware mutation: edits a case at the level of token trees (so the
//! result still lexes, and usually still parses as a function), with the
//! words and literals of the body language, splicing subtrees taken from the
//! seed corpus; sometimes a few raw byte edits on top. Used by the stress
//! driver and by the `expand_tokens` libFuzzer target's custom mutator.

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::harness::{Input, Kind};
use crate::rng::Rng;

/// A token tree that can be edited (`proc_macro2::Group` is immutable).
#[derive(Clone, Debug)]
pub enum Tok {
    Leaf(TokenTree),
    Group(Delimiter, Vec<Tok>),
}

pub fn from_stream(ts: TokenStream) -> Vec<Tok> {
    ts.into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => Tok::Group(g.delimiter(), from_stream(g.stream())),
            leaf => Tok::Leaf(leaf),
        })
        .collect()
}

pub fn to_stream(toks: &[Tok]) -> TokenStream {
    toks.iter()
        .map(|t| match t {
            Tok::Leaf(tt) => tt.clone(),
            Tok::Group(d, inner) => TokenTree::Group(Group::new(*d, to_stream(inner))),
        })
        .collect()
}

/// Words of the body language and of nalgebra, and other identifiers worth
/// trying in an identifier's place.
pub const IDENTS: &[&str] = &[
    // parameters and types
    "x", "y", "w", "a", "b", "s", "t", "v", "m", "n", "self", "Self", "f64", "f32", "i32", "usize", "u8", "T",
    "DVector", "DMatrix", "SVector", "SMatrix", "Matrix", "Vector", "RowDVector", "RowVector", "Vector3",
    "Matrix3", "Matrix2x3", "Const", "Dyn", "U3", "nalgebra", "matgrad", "RealField", "ComplexField", "Copy",
    "Clone", "from_f64", "convert", "unwrap", "expect", "Option", "Some", "None",
    // methods and functions
    "transpose", "tr_mul", "tr_dot", "dot", "norm", "norm_squared", "sum", "mean", "trace", "determinant",
    "try_inverse", "inverse", "cholesky", "lu", "qr", "svd", "symmetric_eigen", "solve", "component_mul",
    "component_div", "map", "exp", "ln", "log", "sqrt", "powi", "powf", "abs", "sin", "cos", "tan", "tanh",
    "sinh", "cosh", "recip", "max", "min", "softplus", "sigmoid", "log_sum_exp", "logsumexp", "relu",
    "kronecker", "column", "row", "rows", "columns", "ncols", "nrows", "len", "diagonal", "from_diagonal",
    "identity", "zeros", "from_element", "add_scalar", "scale", "unscale", "neg", "clone", "into_owned",
    "as_slice", "iter", "fold", "l", "u", "solve_mut", "hadamard", "outer", "ger", "norm1", "amax",
    "symmetrize", "upper_triangle", "lower_triangle", "square", "cube", "mul", "add", "sub", "div",
    "layout", "denominator", "numerator", "let", "mut", "fn", "return", "if", "else", "for", "in", "loop",
    "match", "impl", "pub", "const", "where", "as", "move", "ref", "dyn", "r#fn", "r#type", "_", "__mg_t0",
    "value", "grad", "hessian", "jacobian",
];

pub const LITERALS: &[&str] = &[
    "0", "1", "2", "3", "-1", "0.0", "1.0", "2.0", "0.5", "-0.5", "1e-300", "1e308", "f64::MAX", "3u8",
    "255", "4294967296", "18446744073709551615", "340282366920938463463374607431768211455", "1_000_000",
    "0x10", "1.5e3", "2f32", "2.0f64", "-2", "i32::MIN", "\"msg\"", "\"\"", "'c'", "b'x'", "true", "false",
    "2147483647", "-2147483648", "100", "7",
];

pub const PUNCTS: &[&str] = &[
    "+", "-", "*", "/", "%", ".", ",", ";", ":", "::", "&", "&&", "|", "!", "?", "=", "==", "<", ">", "<=",
    ">=", "->", "=>", "..", "..=", "^", "@", "#", "$", "'a", "+=", "*=", "-=",
];

pub const ATTRS: &[&str] = &[
    "", "x", "w", "a", "a, b", "a, b, c", "x, a", "w, x", "self", "layout = denominator",
    "layout = numerator", "x, layout = denominator", "layout = bogus", "layout", "layout =", "a, a", ",",
    "a,", "1", "x = 1", "wrt = x", "(a)", "a b", "nonexistent", "x, layout = denominator, layout = numerator",
    "r#fn", "r#type", "_", "\"x\"", "a::b", "a; b",
];

/// Material for mutations: identifiers, literals, attribute streams and
/// subtrees, from the tables above and from a corpus.
pub struct Pool {
    pub idents: Vec<String>,
    pub literals: Vec<TokenTree>,
    pub puncts: Vec<TokenStream>,
    pub attrs: Vec<String>,
    pub subtrees: Vec<Tok>,
}

fn collect(toks: &[Tok], idents: &mut BTreeSet<String>, lits: &mut BTreeSet<String>, subtrees: &mut Vec<Tok>) {
    for t in toks {
        match t {
            Tok::Leaf(TokenTree::Ident(i)) => {
                idents.insert(i.to_string());
            }
            Tok::Leaf(TokenTree::Literal(l)) => {
                lits.insert(l.to_string());
            }
            Tok::Leaf(_) => {}
            Tok::Group(_, inner) => {
                subtrees.push(t.clone());
                collect(inner, idents, lits, subtrees);
            }
        }
    }
}

impl Pool {
    pub fn new(corpus: &[Input]) -> Pool {
        let mut idents: BTreeSet<String> = IDENTS.iter().map(|s| s.to_string()).collect();
        let mut lits: BTreeSet<String> = BTreeSet::new();
        let mut attrs: BTreeSet<String> = ATTRS.iter().map(|s| s.to_string()).collect();
        let mut subtrees = Vec::new();
        for c in corpus {
            attrs.insert(c.attr.clone());
            if let Ok(ts) = c.item.parse::<TokenStream>() {
                collect(&from_stream(ts), &mut idents, &mut lits, &mut subtrees);
            }
            if let Ok(ts) = c.attr.parse::<TokenStream>() {
                collect(&from_stream(ts), &mut idents, &mut lits, &mut subtrees);
            }
        }
        // Keep the subtree pool to a bounded, deterministic sample.
        subtrees.sort_by_key(|t| to_stream(std::slice::from_ref(t)).to_string().len());
        subtrees.dedup_by(|a, b| to_stream(std::slice::from_ref(a)).to_string() == to_stream(std::slice::from_ref(b)).to_string());
        if subtrees.len() > 4000 {
            let step = subtrees.len() as f64 / 4000.0;
            subtrees = (0..4000).map(|i| subtrees[(i as f64 * step) as usize].clone()).collect();
        }
        let literals = LITERALS
            .iter()
            .map(|s| s.to_string())
            .chain(lits)
            .filter_map(|s| s.parse::<Literal>().ok().map(TokenTree::Literal))
            .collect();
        let puncts = PUNCTS.iter().filter_map(|s| s.parse::<TokenStream>().ok()).collect();
        let idents = idents
            .into_iter()
            .filter(|s| std::panic::catch_unwind(|| Ident::new_raw_or_not(s)).is_ok())
            .collect();
        Pool {
            idents,
            literals,
            puncts,
            attrs: attrs.into_iter().collect(),
            subtrees,
        }
    }

    fn ident(&self, rng: &mut Rng) -> TokenTree {
        TokenTree::Ident(Ident::new_raw_or_not(rng.pick(&self.idents[..]).as_str()))
    }
}

trait NewIdent {
    fn new_raw_or_not(s: &str) -> Ident;
}

impl NewIdent for Ident {
    fn new_raw_or_not(s: &str) -> Ident {
        match s.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(s, Span::call_site()),
        }
    }
}

/// Loads a corpus directory in the byte format (unreadable or undecodable
/// files are skipped).
pub fn load_dir(dir: &Path) -> Vec<(String, Input)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if let Ok(bytes) = std::fs::read(&p) {
            if let Some(inp) = Input::decode(&bytes) {
                out.push((p.file_name().unwrap().to_string_lossy().into_owned(), inp));
            }
        }
    }
    out
}

/// Number of token sequences (the top level and every group's contents).
fn count_seqs(toks: &[Tok]) -> usize {
    1 + toks
        .iter()
        .map(|t| match t {
            Tok::Group(_, inner) => count_seqs(inner),
            Tok::Leaf(_) => 0,
        })
        .sum::<usize>()
}

/// Applies `f` to the `k`th sequence in pre-order.
fn with_seq(toks: &mut Vec<Tok>, k: &mut usize, f: &mut dyn FnMut(&mut Vec<Tok>)) -> bool {
    if *k == 0 {
        f(toks);
        return true;
    }
    *k -= 1;
    for t in toks.iter_mut() {
        if let Tok::Group(_, inner) = t {
            if with_seq(inner, k, f) {
                return true;
            }
        }
    }
    false
}

fn punct_toks(ts: &TokenStream) -> Vec<Tok> {
    from_stream(ts.clone())
}

fn random_delim(rng: &mut Rng) -> Delimiter {
    *rng.pick(&[Delimiter::Parenthesis, Delimiter::Brace, Delimiter::Bracket, Delimiter::None])
}

/// One edit of one random sequence of `toks`.
pub fn mutate_tokens(toks: &mut Vec<Tok>, pool: &Pool, rng: &mut Rng) {
    let n = count_seqs(toks);
    let mut k = rng.below(n);
    let op = rng.below(16);
    let mut f = |s: &mut Vec<Tok>| {
        let len = s.len();
        let i = if len == 0 { 0 } else { rng.below(len) };
        match op {
            0 if len > 0 => {
                s.remove(i);
            }
            1 if len > 0 => {
                let t = s[i].clone();
                s.insert(i + 1, t);
            }
            2 if len > 1 => {
                let j = rng.below(len);
                s.swap(i, j);
            }
            3 => {
                let idx: Vec<usize> = (0..len).filter(|&j| matches!(s[j], Tok::Leaf(TokenTree::Ident(_)))).collect();
                if !idx.is_empty() {
                    let j = *rng.pick(&idx);
                    s[j] = Tok::Leaf(pool.ident(rng));
                }
            }
            4 => {
                let idx: Vec<usize> = (0..len).filter(|&j| matches!(s[j], Tok::Leaf(TokenTree::Literal(_)))).collect();
                if !idx.is_empty() {
                    let j = *rng.pick(&idx);
                    s[j] = Tok::Leaf(rng.pick(&pool.literals).clone());
                } else if len > 0 {
                    s[i] = Tok::Leaf(rng.pick(&pool.literals).clone());
                }
            }
            5 => {
                let idx: Vec<usize> = (0..len).filter(|&j| matches!(s[j], Tok::Leaf(TokenTree::Punct(_)))).collect();
                let p = punct_toks(rng.pick(&pool.puncts));
                if !idx.is_empty() {
                    let j = *rng.pick(&idx);
                    s.splice(j..j + 1, p);
                } else {
                    s.splice(i..i, p);
                }
            }
            6 if len > 0 && !pool.subtrees.is_empty() => {
                s[i] = rng.pick(&pool.subtrees).clone();
            }
            7 => {
                let t = match rng.below(3) {
                    0 if !pool.subtrees.is_empty() => rng.pick(&pool.subtrees).clone(),
                    1 => Tok::Leaf(rng.pick(&pool.literals).clone()),
                    _ => Tok::Leaf(pool.ident(rng)),
                };
                s.insert(i.min(len), t);
            }
            8 => {
                let idx: Vec<usize> = (0..len).filter(|&j| matches!(s[j], Tok::Group(..))).collect();
                if !idx.is_empty() {
                    let j = *rng.pick(&idx);
                    if let Tok::Group(d, _) = &mut s[j] {
                        *d = random_delim(rng);
                    }
                }
            }
            9 if len > 0 => {
                let j = (i + 1 + rng.below(3)).min(len);
                let inner: Vec<Tok> = s.drain(i..j).collect();
                s.insert(i, Tok::Group(Delimiter::Parenthesis, inner));
            }
            10 => {
                // `.method(args)` after a token
                let args = match rng.below(3) {
                    0 => Vec::new(),
                    1 => vec![Tok::Leaf(rng.pick(&pool.literals).clone())],
                    _ => vec![Tok::Leaf(pool.ident(rng))],
                };
                let at = if len == 0 { 0 } else { i + 1 };
                let call = vec![
                    Tok::Leaf(TokenTree::Punct(Punct::new('.', Spacing::Alone))),
                    Tok::Leaf(pool.ident(rng)),
                    Tok::Group(Delimiter::Parenthesis, args),
                ];
                s.splice(at..at, call);
            }
            11 => {
                // `op operand` after a token
                let ops = ["+", "-", "*", "/"];
                let op: TokenStream = rng.pick(&ops).parse().unwrap();
                let mut ins = from_stream(op);
                ins.push(match rng.below(3) {
                    0 if !pool.subtrees.is_empty() => rng.pick(&pool.subtrees).clone(),
                    1 => Tok::Leaf(rng.pick(&pool.literals).clone()),
                    _ => Tok::Leaf(pool.ident(rng)),
                });
                let at = if len == 0 { 0 } else { i + 1 };
                s.splice(at..at, ins);
            }
            12 => {
                let idx: Vec<usize> = (0..len).filter(|&j| matches!(s[j], Tok::Group(..))).collect();
                if !idx.is_empty() {
                    let j = *rng.pick(&idx);
                    if let Tok::Group(_, inner) = s[j].clone() {
                        s.splice(j..j + 1, inner);
                    }
                }
            }
            13 if len > 0 => {
                s.truncate(i);
            }
            14 => {
                // `&` / `-` / `!` prefix
                let pre = *rng.pick(&['&', '-', '!', '*']);
                s.insert(i.min(len), Tok::Leaf(TokenTree::Punct(Punct::new(pre, Spacing::Alone))));
            }
            _ => {
                // replace any leaf with an identifier
                if len > 0 {
                    s[i] = Tok::Leaf(pool.ident(rng));
                }
            }
        }
    };
    with_seq(toks, &mut k, &mut f);
}

/// A few raw edits of text (the result may no longer lex).
pub fn mutate_text(text: &mut String, pool: &Pool, rng: &mut Rng) {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(3) {
        let len = chars.len();
        let i = if len == 0 { 0 } else { rng.below(len + 1) };
        match rng.below(5) {
            0 if len > 0 => {
                let j = (i + 1 + rng.below(8)).min(len);
                chars.drain(i.min(len)..j);
            }
            1 => {
                let c = *rng.pick(&['(', ')', '{', '}', '<', '>', '.', ',', ';', '&', '-', '*', ' ', '\'', '"', '#', '\u{e9}', '0']);
                chars.insert(i.min(len), c);
            }
            2 if len > 0 => {
                let j = rng.below(len);
                chars[j] = char::from(b' ' + rng.below(95) as u8);
            }
            3 => {
                let w: Vec<char> = rng.pick(&pool.idents).chars().collect();
                chars.splice(i.min(len)..i.min(len), w);
            }
            _ if len > 0 => {
                // copy a chunk elsewhere
                let a = rng.below(len);
                let b = (a + 1 + rng.below(24)).min(len);
                let chunk: Vec<char> = chars[a..b].to_vec();
                let at = rng.below(chars.len() + 1);
                chars.splice(at..at, chunk);
            }
            _ => {}
        }
    }
    *text = chars.into_iter().collect();
}

/// A mutant of `parent`: a few token edits of the item (and sometimes of the
/// attribute, the kind, or a splice from `other`), sometimes raw text edits.
pub fn mutate(parent: &Input, other: Option<&Input>, pool: &Pool, rng: &mut Rng) -> Input {
    let mut out = parent.clone();
    if rng.chance(1, 16) {
        out.kind = *rng.pick(&Kind::ALL);
    }
    if rng.chance(1, 8) {
        out.attr = rng.pick(&pool.attrs).clone();
    }
    if rng.chance(1, 10) {
        if let Ok(ts) = out.attr.parse::<TokenStream>() {
            let mut toks = from_stream(ts);
            mutate_tokens(&mut toks, pool, rng);
            out.attr = to_stream(&toks).to_string();
        }
    }
    if let (Some(o), true) = (other, rng.chance(1, 12)) {
        // splice: this signature, the other's body (or the reverse)
        if let (Ok(a), Ok(b)) = (out.item.parse::<TokenStream>(), o.item.parse::<TokenStream>()) {
            let mut a = from_stream(a);
            let b = from_stream(b);
            let body = b.iter().rev().find(|t| matches!(t, Tok::Group(Delimiter::Brace, _))).cloned();
            if let (Some(body), Some(pos)) = (body, a.iter().rposition(|t| matches!(t, Tok::Group(Delimiter::Brace, _)))) {
                a[pos] = body;
                out.item = to_stream(&a).to_string();
            }
        }
    }
    let edits = 1 + (rng.next_u64().trailing_zeros() as usize).min(7);
    if let Ok(ts) = out.item.parse::<TokenStream>() {
        let mut toks = from_stream(ts);
        for _ in 0..edits {
            mutate_tokens(&mut toks, pool, rng);
        }
        out.item = to_stream(&toks).to_string();
    }
    if rng.chance(1, 12) {
        mutate_text(&mut out.item, pool, rng);
    }
    out
}
