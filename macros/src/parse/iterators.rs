//! Iterator chains that fold, read as the loops they stand for.
//!
//! `ITER.map(|p| body).sum()` is the loop `let mut s = -0.0; for p in ITER { s += body; }`
//! (Rust's `f64: Sum` folds from `-0.0`, so the value is the same bits; a sum of fixed-size
//! matrices starts from zeros, as nalgebra's does); `product()` multiplies from `1.0`;
//! `fold(init, |acc, p| body)` carries `acc` from `init`; `sum()` or `product()` of the
//! iterator itself reads its items; a `filter(|q| cond)` before them puts the step under
//! `if cond`. `ITER` is any iterator a `for` loop takes (a range, `iter()`, `column_iter()`,
//! `row_iter()`, with `enumerate`, `zip`, `rev`, `skip`, `take`, `copied`, `cloned`), so the chain's gradient
//! is the loop's, nothing new to differentiate.

use proc_macro2::Span;
use syn::{Expr, ExprMethodCall, Pat};

use super::BodyParser;
use crate::ir::Id;

/// Methods that make or adapt an iterator a `for` loop in a `#[grad]` body takes.
const ITERATORS: &[&str] = &[
    "iter",
    "windows",
    "column_iter",
    "row_iter",
    "enumerate",
    "zip",
    "rev",
    "copied",
    "cloned",
    "skip",
    "take",
];

/// Iterator adaptors a chain may not use where they stand: no loop form stands for them (a
/// `filter` right before the `map` or the fold, and a `map` right before the fold, are read).
const UNSUPPORTED: &[&str] = &[
    "map",
    "filter",
    "filter_map",
    "flat_map",
    "step_by",
    "chain",
    "take_while",
    "skip_while",
    "map_while",
    "scan",
    "inspect",
    "peekable",
    "chunks",
    "into_iter",
];

/// A closure's parameters (their types dropped), its statements and its value.
struct Closure {
    params: Vec<Pat>,
    stmts: Vec<syn::Stmt>,
    value: Expr,
}

/// How a chain folds its items.
enum Fold<'a> {
    Sum,
    Product,
    /// `fold(init, f)`.
    With(&'a Expr, &'a Expr),
}

impl BodyParser<'_> {
    /// `m` read as the loop it stands for if it folds an iterator chain (`sum`, `product`,
    /// `fold`); `None` if it is not one (`x.map(f).sum()` of a matrix is nalgebra's).
    pub(super) fn iterator_fold(&mut self, m: &ExprMethodCall) -> Option<Result<Id, ()>> {
        let fold = match m.method.to_string().as_str() {
            "sum" if m.args.is_empty() => Fold::Sum,
            "product" if m.args.is_empty() => Fold::Product,
            "fold" if m.args.len() == 2 => Fold::With(&m.args[0], &m.args[1]),
            _ => return self.unsupported_end(m),
        };
        let (iter, filter, map) = chain(&m.receiver);
        if !is_iterator(iter) {
            return None;
        }
        Some(self.fold_loop(m, &fold, iter, filter, map))
    }

    /// An error for a chain of iterators ending in another method (`reduce`, `max_by`,
    /// `count`, `collect`, …), also under `unwrap()`; `None` if `m` ends no such chain.
    fn unsupported_end(&mut self, m: &ExprMethodCall) -> Option<Result<Id, ()>> {
        let end = match &*m.receiver {
            Expr::MethodCall(r) if m.method == "unwrap" || m.method == "expect" => r,
            _ => m,
        };
        let name = end.method.to_string();
        let (iter, ..) = chain(&end.receiver);
        if ITERATORS.contains(&name.as_str())
            || UNSUPPORTED.contains(&name.as_str())
            || !is_iterator(iter)
        {
            return None;
        }
        let why = if name == "collect" {
            "a #[grad] body keeps no collections: data-only work (collecting, sorting indices) belongs in a plain function, its result bound by a typed `let` (`let order: Vec<usize> = argsort(times);`) or passed as a parameter; values to add up are a `sum` or a `fold`"
        } else {
            "`sum`, `product` and `fold` are (a maximum is `fold(f64::NEG_INFINITY, f64::max)`), or write the loop"
        };
        Some(self.fail(
            &end.method,
            format!("`{name}` of an iterator is not supported in a #[grad] body: {why}"),
        ))
    }

    fn fold_loop(
        &mut self,
        m: &ExprMethodCall,
        fold: &Fold,
        iter: &Expr,
        filter: Option<&Expr>,
        map: Option<&Expr>,
    ) -> Result<Id, ()> {
        if let Some(adaptor) = unsupported_adaptor(iter) {
            let method = &adaptor.method;
            let why = if method == "map" {
                format!("`{method}` before `filter` is not supported in a #[grad] body: filter first, or write the loop")
            } else {
                format!("`{method}` in an iterator chain is not supported in a #[grad] body: write the loop (`for … in … {{ if … {{ s += …; }} }}`)")
            };
            return self.fail(method, why);
        }
        let span = m.method.span();
        // The type the chain folds to, where the turbofish or the `let` names it.
        let declared = self.declared_fold.take();
        // (A turbofish of another form does not compile: rustc says so.)
        let named = match m
            .turbofish
            .as_ref()
            .map(|t| t.args.iter().collect::<Vec<_>>())
        {
            Some(args) => match args[..] {
                [syn::GenericArgument::Type(ty)] => Some(ty.clone()),
                _ => None,
            },
            None => declared,
        };
        let matrix = match named.filter(|ty| !self.is_scalar_type(ty)) {
            None => None,
            Some(ty) => Some(self.matrix_zeros(&ty, fold, m)?),
        };
        let acc = syn::Ident::new(&format!("__mg_fold_{}", self.folds), span);
        self.folds += 1;
        let item = syn::Ident::new("__mg_item", span);
        // The loop's pattern, and the statements and value that make an item's term.
        let (pat, mut stmts, term): (Pat, Vec<syn::Stmt>, Expr) = match map {
            Some(f) => match self.closure(f, 1)? {
                Some(mut c) => (c.params.remove(0), c.stmts, c.value),
                None => (
                    syn::parse_quote_spanned!(span=> #item),
                    Vec::new(),
                    syn::parse_quote_spanned!(span=> #f(#item)),
                ),
            },
            None => (
                syn::parse_quote_spanned!(span=> #item),
                Vec::new(),
                syn::parse_quote_spanned!(span=> #item),
            ),
        };
        let (init, pat) = match fold {
            Fold::Sum => {
                stmts.push(syn::parse_quote_spanned!(span=> #acc += #term;));
                (matrix.unwrap_or_else(|| self.zero_or_one(span, true)), pat)
            }
            Fold::Product => {
                stmts.push(syn::parse_quote_spanned!(span=> #acc *= #term;));
                (self.zero_or_one(span, false), pat)
            }
            Fold::With(init, f) => match self.closure(f, 2)? {
                Some(c) => {
                    let (a, q) = (&c.params[0], &c.params[1]);
                    // Without a `map` the closure's item pattern is the loop's own.
                    let pat = if map.is_none() {
                        q.clone()
                    } else {
                        stmts.push(syn::parse_quote_spanned!(span=> let #q = #term;));
                        pat
                    };
                    stmts.push(syn::parse_quote_spanned!(span=> let #a = #acc;));
                    stmts.extend(c.stmts);
                    let value = c.value;
                    stmts.push(syn::parse_quote_spanned!(span=> #acc = #value;));
                    ((*init).clone(), pat)
                }
                None => {
                    stmts.push(syn::parse_quote_spanned!(span=> #acc = #f(#acc, #term);));
                    ((*init).clone(), pat)
                }
            },
        };
        // With a `filter`, the loop binds each item to names of its own, and the filter's and
        // the map's (or fold's) patterns bind their names from them, the step under an `if`.
        let (pat, stmts) = match filter {
            None => (pat, stmts),
            Some(f) => {
                let item = Item::of(iter, span, &mut 0);
                let Some(c) = self.closure(f, 1)? else {
                    return self.fail(f, "`filter` takes a closure in a #[grad] body");
                };
                let mut outer = self.binds(&c.params[0], &item)?;
                outer.extend(c.stmts);
                let mut inner = self.binds(&pat, &item)?;
                inner.extend(stmts);
                let cond = c.value;
                outer.push(syn::parse_quote_spanned!(span=> if #cond { #(#inner)* }));
                (item.pattern(), outer)
            }
        };
        let local: syn::Stmt = syn::parse_quote_spanned!(span=> let mut #acc = #init;);
        let syn::Stmt::Local(local) = local else {
            unreachable!("a `let` statement")
        };
        self.local(&local);
        let each: syn::ExprForLoop = syn::parse_quote_spanned!(span=>
            for #pat in #iter {
                #(#stmts)*
            }
        );
        self.statement(&Expr::ForLoop(each));
        self.expr(&syn::parse_quote_spanned!(span=> #acc))
    }

    /// `f`, a closure of `arity` parameters, in parts; `None` for another expression (a
    /// function by path, called on the items); an error for a closure of another arity or
    /// without a value.
    fn closure(&mut self, f: &Expr, arity: usize) -> Result<Option<Closure>, ()> {
        let Expr::Closure(c) = f else {
            return Ok(None);
        };
        if c.inputs.len() != arity {
            let what = if arity == 1 {
                "one parameter"
            } else {
                "two parameters (the accumulator, then the item)"
            };
            return self.fail(&c.inputs, format!("this closure takes {what} here"));
        }
        let params = c
            .inputs
            .iter()
            .map(|p| match p {
                Pat::Type(t) => (*t.pat).clone(),
                p => p.clone(),
            })
            .collect();
        let (stmts, value) = match &*c.body {
            Expr::Block(b) if b.label.is_none() => {
                let mut stmts = b.block.stmts.clone();
                match stmts.pop() {
                    Some(syn::Stmt::Expr(value, None)) => (stmts, value),
                    _ => {
                        return self.fail(&c.body, "a closure in an iterator chain ends in its value in a #[grad] body (`{ let z = …; z * z }`; `return` is not supported)")
                    }
                }
            }
            body => (Vec::new(), body.clone()),
        };
        Ok(Some(Closure {
            params,
            stmts,
            value,
        }))
    }

    /// `let` statements binding the names of `pat` (a loop pattern: names, `_`, references,
    /// pairs) from `item`'s names.
    fn binds(&mut self, pat: &Pat, item: &Item) -> Result<Vec<syn::Stmt>, ()> {
        match (pat, item) {
            (Pat::Wild(_), _) => Ok(Vec::new()),
            (Pat::Reference(r), _) => self.binds(&r.pat, item),
            (Pat::Type(t), _) => self.binds(&t.pat, item),
            (Pat::Paren(p), _) => self.binds(&p.pat, item),
            (Pat::Ident(p), Item::One(name)) if p.subpat.is_none() => Ok(vec![
                syn::parse_quote_spanned!(name.span()=> let #p = #name;),
            ]),
            (Pat::Tuple(t), Item::Pair(a, b)) if t.elems.len() == 2 => {
                let mut stmts = self.binds(&t.elems[0], a)?;
                stmts.extend(self.binds(&t.elems[1], b)?);
                Ok(stmts)
            }
            (Pat::Ident(_), Item::Pair(..)) => {
                self.fail(pat, "this iterates over pairs: bind them as `(a, b)`")
            }
            _ => self.fail(
                pat,
                "#[grad] supports patterns of names, `_`, references and pairs `(a, b)` here",
            ),
        }
    }

    /// `-0.0` (where a sum starts, as `f64: Sum` does) or `1.0`, in the loss's scalar type.
    fn zero_or_one(&self, span: Span, zero: bool) -> Expr {
        match (&self.g.scalar, zero) {
            (crate::ir::Scalar::Generic(t), true) => syn::parse_quote_spanned!(span=> -#t::zero()),
            (crate::ir::Scalar::Generic(t), false) => syn::parse_quote_spanned!(span=> #t::one()),
            (_, true) => syn::parse_quote_spanned!(span=> -0.0),
            (_, false) => syn::parse_quote_spanned!(span=> 1.0),
        }
    }

    /// `T::zeros()` for a sum of matrices of fixed-size type `ty` (what nalgebra's `Sum` of
    /// such matrices starts from); an error for another fold or a type of run-time size, whose
    /// `Sum` has no zero to start from.
    fn matrix_zeros(
        &mut self,
        ty: &syn::Type,
        fold: &Fold,
        m: &ExprMethodCall,
    ) -> Result<Expr, ()> {
        let mut dynamic = false;
        let generics: Vec<syn::Ident> = match &self.g.scalar {
            crate::ir::Scalar::Generic(t) => vec![t.clone()],
            _ => Vec::new(),
        };
        let shape = crate::signature::type_shape(ty, &generics, &mut |_| {
            dynamic = true;
            crate::shape::Dim::Fixed(0)
        });
        let path = match (fold, shape, ty) {
            (Fold::Sum, Ok(_), syn::Type::Path(p)) if !dynamic && p.qself.is_none() => &p.path,
            (Fold::Sum, Ok(_), _) if dynamic => {
                return self.fail(ty, "a sum of matrices of run-time size over an iterator has no zero to start from (nalgebra's panics on no items): write the loop from `DMatrix::zeros(r, c)`")
            }
            (Fold::Sum, ..) => {
                let shown = crate::errors::show(ty);
                return self.fail(ty, format!("an iterator chain in a #[grad] body sums to a scalar or a fixed-size nalgebra matrix named by its own type (`sum::<f64>()`, `sum::<Matrix3<f64>>()`), found `{shown}`"));
            }
            _ => return self.fail(&m.method, "a product of matrices over an iterator is not supported in a #[grad] body: write the loop"),
        };
        // `Matrix3<f64>` as an expression's path: `Matrix3::<f64>`.
        let mut path = path.clone();
        for segment in &mut path.segments {
            if let syn::PathArguments::AngleBracketed(a) = &mut segment.arguments {
                a.colon2_token = Some(Default::default());
            }
        }
        let span = m.method.span();
        Ok(syn::parse_quote_spanned!(span=> #path::zeros()))
    }

    /// Whether `ty` is the loss's scalar type.
    fn is_scalar_type(&self, ty: &syn::Type) -> bool {
        let syn::Type::Path(p) = ty else {
            return false;
        };
        let Some(name) = p.path.get_ident() else {
            return false;
        };
        match &self.g.scalar {
            crate::ir::Scalar::F64 => name == "f64",
            crate::ir::Scalar::F32 => name == "f32",
            crate::ir::Scalar::Generic(t) => name == t,
        }
    }
}

/// An iterator's item as names: one, or a pair (`enumerate`, `zip`).
enum Item {
    One(syn::Ident),
    Pair(Box<Item>, Box<Item>),
}

impl Item {
    /// The shape of `iter`'s items, named `__mg_item_0`, `__mg_item_1`, … from `next`.
    fn of(iter: &Expr, span: Span, next: &mut usize) -> Item {
        match iter {
            Expr::Paren(p) => Item::of(&p.expr, span, next),
            Expr::MethodCall(m) if m.method == "enumerate" => {
                let index = Item::fresh(span, next);
                Item::Pair(Box::new(index), Box::new(Item::of(&m.receiver, span, next)))
            }
            Expr::MethodCall(m) if m.method == "zip" && m.args.len() == 1 => {
                let a = Item::of(&m.receiver, span, next);
                Item::Pair(Box::new(a), Box::new(Item::of(&m.args[0], span, next)))
            }
            Expr::MethodCall(m) if ["rev", "copied", "cloned"].iter().any(|a| m.method == a) => {
                Item::of(&m.receiver, span, next)
            }
            _ => Item::fresh(span, next),
        }
    }

    fn fresh(span: Span, next: &mut usize) -> Item {
        *next += 1;
        Item::One(syn::Ident::new(&format!("__mg_item_{}", *next - 1), span))
    }

    /// The loop pattern binding the names.
    fn pattern(&self) -> Pat {
        match self {
            Item::One(name) => syn::parse_quote!(#name),
            Item::Pair(a, b) => {
                let (a, b) = (a.pattern(), b.pattern());
                syn::parse_quote!((#a, #b))
            }
        }
    }
}

/// `ITER.filter(f).map(g)` (each adaptor optional) as `(ITER, f, g)`.
fn chain(e: &Expr) -> (&Expr, Option<&Expr>, Option<&Expr>) {
    let (rest, map) = adaptor(e, "map");
    let (iter, filter) = adaptor(rest, "filter");
    (iter, filter, map)
}

/// `(x, Some(f))` for `x.method(f)`, else `(e, None)`.
fn adaptor<'a>(e: &'a Expr, method: &str) -> (&'a Expr, Option<&'a Expr>) {
    match e {
        Expr::MethodCall(r) if r.method == method && r.args.len() == 1 => {
            (&*r.receiver, Some(&r.args[0]))
        }
        e => (e, None),
    }
}

/// Whether `e` is an iterator a `for` loop in a `#[grad]` body takes, or one adapted by an
/// adaptor it does not take (reported by [`unsupported_adaptor`]): any of those but `map` (a
/// matrix's own method too) is an iterator whatever it adapts (`x.as_slice().windows(2)`).
fn is_iterator(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => matches!(&*p.expr, Expr::Range(_)),
        Expr::Range(_) => true,
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            ITERATORS.contains(&name.as_str())
                || (UNSUPPORTED.contains(&name.as_str())
                    && (name != "map" || is_iterator(&m.receiver)))
        }
        _ => false,
    }
}

/// The first adaptor of chain `e` no loop form stands for.
fn unsupported_adaptor(e: &Expr) -> Option<&ExprMethodCall> {
    let Expr::MethodCall(m) = e else { return None };
    if UNSUPPORTED.contains(&m.method.to_string().as_str()) {
        return Some(m);
    }
    unsupported_adaptor(&m.receiver).or_else(|| m.args.iter().find_map(unsupported_adaptor))
}
