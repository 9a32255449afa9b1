//! Factorisations: `a.clone().cholesky().unwrap()` (or `.expect("…")`) and
//! `a.clone().lu()`, bound by a `let` and used several times or used at once,
//! and the methods read off them; and the triangular solves
//! `a.solve_lower_triangular(&b).unwrap()` and kin. A factorisation is not a
//! matrix: anywhere else than before one of its methods it is an error.

use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall, Lit};

use super::{is_field, plural, Binding, BodyParser, Hint};
use crate::ir::ops::*;
use crate::ir::Id;

/// The methods of a Cholesky factorisation the body language has.
const CHOLESKY_METHODS: &str = "l(), solve(&b), inverse(), determinant(), ln_determinant()";

/// The methods of an LU factorisation the body language has.
const LU_METHODS: &str =
    "solve(&b).unwrap(), solve(&b).expect(\"…\"), determinant(), try_inverse().unwrap(), try_inverse().expect(\"…\")";

/// nalgebra's triangular solves, each returning an `Option`.
const TRIANGULAR_SOLVES: &[&str] = &[
    "solve_lower_triangular",
    "solve_upper_triangular",
    "tr_solve_lower_triangular",
    "tr_solve_upper_triangular",
];

/// Whether `name` is one of nalgebra's triangular solves.
pub fn is_triangular_solve(name: &str) -> bool {
    TRIANGULAR_SOLVES.contains(&name)
}

/// What kind of factorisation node `op` is, if it is one.
fn kind(op: &Op) -> Option<&'static str> {
    match op {
        Op::CholeskyOf(_) => Some("a Cholesky factorisation"),
        Op::LuOf(_) => Some("an LU factorisation"),
        _ => None,
    }
}

impl BodyParser<'_> {
    /// The factorisation `e` is, if it is one: a name bound to one,
    /// `x.cholesky().unwrap()` (`.expect("…")`), or `x.lu()`. `None` when `e`
    /// is something else (nothing is parsed then).
    pub(super) fn factorisation(&mut self, e: &Expr) -> Option<Result<Id, ()>> {
        match e {
            Expr::Paren(p) => self.factorisation(&p.expr),
            Expr::Group(g) => self.factorisation(&g.expr),
            Expr::Path(p) if p.qself.is_none() => {
                let name = p.path.get_ident()?.to_string();
                let found = self.scope.iter().rev().find(|(n, _)| *n == name);
                match found {
                    Some((_, Binding::Node(id))) if kind(self.g.op(*id)).is_some() => Some(Ok(*id)),
                    _ => None,
                }
            }
            Expr::MethodCall(m) if m.method == "lu" && m.args.is_empty() => {
                Some(self.factorise(m, &m.receiver, LuOf.into()))
            }
            Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => {
                let Expr::MethodCall(inner) = &*m.receiver else {
                    return None;
                };
                if inner.method != "cholesky" || !inner.args.is_empty() {
                    return None;
                }
                Some(
                    self.on_failure(m)
                        .and_then(|on| self.factorise(m, &inner.receiver, CholeskyOf(on).into())),
                )
            }
            _ => None,
        }
    }

    /// The factorisation `op` of the matrix `receiver`, at the tokens `m`.
    fn factorise(&mut self, m: &ExprMethodCall, receiver: &Expr, op: Op) -> Result<Id, ()> {
        if is_field(receiver) {
            self.hint = Some(Hint::Matrix);
        }
        let a = self.expr(receiver)?;
        self.g.span = m.span();
        self.build(m, op, &[a])
    }

    /// `f.method(…)` for the factorisation `f`.
    pub(super) fn factor_method(&mut self, m: &ExprMethodCall, f: Id) -> Result<Id, ()> {
        let name = m.method.to_string();
        if (name == "clone" || name == "to_owned") && m.args.is_empty() {
            return Ok(f);
        }
        let cholesky = matches!(self.g.op(f), Op::CholeskyOf(_));
        let (op, arity): (Op, usize) = match (cholesky, name.as_str()) {
            (true, "l") => (CholeskyL.into(), 0),
            (true, "solve") => (CholeskySolve.into(), 1),
            (true, "inverse") => (CholeskyInverse.into(), 0),
            (true, "determinant") => (CholeskyDet.into(), 0),
            (true, "ln_determinant") => (CholeskyLnDet.into(), 0),
            (false, "determinant") => (LuDet.into(), 0),
            (false, "solve" | "try_inverse") => {
                return self.fail(
                    &m.method,
                    format!("`{name}` of an LU factorisation returns an `Option` (`None` when the matrix is singular): follow it with `.unwrap()` or `.expect(\"…\")`"),
                )
            }
            (true, _) => return self.unsupported_factor_method(m, "a Cholesky factorisation", CHOLESKY_METHODS),
            (false, _) => return self.unsupported_factor_method(m, "an LU factorisation", LU_METHODS),
        };
        if m.args.len() != arity {
            return self.fail(
                m,
                format!(
                    "`{name}` takes {}, found {}",
                    plural(arity, "argument"),
                    m.args.len()
                ),
            );
        }
        let mut args = vec![f];
        for a in &m.args {
            if is_field(a) {
                self.hint = Some(Hint::Matrix);
            }
            args.push(self.expr(a)?);
        }
        self.g.span = m.span();
        self.build(m, op, &args)
    }

    fn unsupported_factor_method(
        &mut self,
        m: &ExprMethodCall,
        what: &str,
        supported: &str,
    ) -> Result<Id, ()> {
        let name = m.method.to_string();
        let why = match name.as_str() {
            "l_dirty" | "unpack_dirty" => {
                " (its upper triangle is what was left of the input matrix, which the gradient would have to follow; use `l()`)"
            }
            "solve_mut" => " (it writes into its argument; use `solve(&b)`)",
            _ => "",
        };
        self.fail(
            &m.method,
            format!("unsupported method `{name}` on {what} in a #[grad] body{why}; supported: {supported}"),
        )
    }

    /// `….unwrap()` or `….expect("…")` after a method of a factorisation that
    /// returns an `Option`, or after a triangular solve; `None` when `m` is
    /// another `unwrap` (nothing is parsed then).
    pub(super) fn unwrap_factor(&mut self, m: &ExprMethodCall) -> Option<Result<Id, ()>> {
        let Expr::MethodCall(inner) = &*m.receiver else {
            return None;
        };
        let name = inner.method.to_string();
        if name == "cholesky" {
            return Some(self.fail(
                m,
                "a Cholesky factorisation is not a matrix: bind it (`let chol = a.clone().cholesky().unwrap();`) and use its methods, or call one at once (`a.clone().cholesky().unwrap().solve(&b)`)",
            ));
        }
        if is_triangular_solve(&name) {
            return Some(self.triangular_solve(m, inner));
        }
        if name != "solve" && name != "try_inverse" {
            return None;
        }
        let f = match self.factorisation(&inner.receiver)? {
            Ok(f) => f,
            Err(()) => return Some(Err(())),
        };
        if matches!(self.g.op(f), Op::CholeskyOf(_)) {
            return Some(self.fail(
                &m.method,
                format!("`{name}` of a Cholesky factorisation returns its result, not an `Option`: remove `.{}(…)`", m.method),
            ));
        }
        Some(self.lu_unwrapped(m, inner, f))
    }

    /// `lu.solve(&b).unwrap()` and `lu.try_inverse().unwrap()`.
    fn lu_unwrapped(
        &mut self,
        m: &ExprMethodCall,
        inner: &ExprMethodCall,
        f: Id,
    ) -> Result<Id, ()> {
        let on = self.on_failure(m)?;
        let arity = usize::from(inner.method == "solve");
        if inner.args.len() != arity {
            return self.fail(
                inner,
                format!(
                    "`{}` takes {}, found {}",
                    inner.method,
                    plural(arity, "argument"),
                    inner.args.len()
                ),
            );
        }
        let mut args = vec![f];
        for a in &inner.args {
            if is_field(a) {
                self.hint = Some(Hint::Matrix);
            }
            args.push(self.expr(a)?);
        }
        self.g.span = m.span();
        if arity == 1 {
            self.build(m, LuSolve(on), &args)
        } else {
            self.build(m, LuInverse(on), &args)
        }
    }

    /// `a.solve_lower_triangular(&b).unwrap()` and the other triangular solves.
    fn triangular_solve(&mut self, m: &ExprMethodCall, inner: &ExprMethodCall) -> Result<Id, ()> {
        let on_singular = self.on_failure(m)?;
        if inner.args.len() != 1 {
            return self.fail(
                inner,
                format!(
                    "`{}` takes 1 argument, found {}",
                    inner.method,
                    inner.args.len()
                ),
            );
        }
        let name = inner.method.to_string();
        if is_field(&inner.receiver) {
            self.hint = Some(Hint::Matrix);
        }
        let a = self.expr(&inner.receiver);
        if is_field(&inner.args[0]) {
            self.hint = Some(Hint::Matrix);
        }
        let b = self.expr(&inner.args[0]);
        let (a, b) = (a?, b?);
        let op = SolveTriangular {
            lower: name.contains("lower"),
            transposed: name.starts_with("tr_"),
            on_singular,
        };
        self.g.span = m.span();
        self.build(m, op, &[a, b])
    }

    /// What `m`, an `.unwrap()` or `.expect("…")`, does when the `Option`
    /// before it is `None`.
    pub(super) fn on_failure(&mut self, m: &ExprMethodCall) -> Result<OnSingular, ()> {
        match (m.method.to_string().as_str(), m.args.first()) {
            ("unwrap", None) => Ok(OnSingular::Unwrap),
            ("expect", Some(Expr::Lit(l))) if m.args.len() == 1 => match &l.lit {
                Lit::Str(s) => Ok(OnSingular::Expect(s.value())),
                _ => self.fail(l, "`expect` needs a string literal"),
            },
            ("unwrap", _) => self.fail(&m.args, "`unwrap` takes no arguments"),
            _ => self.fail(
                &m.args,
                "`expect` needs one string literal, as in `.expect(\"singular matrix\")`",
            ),
        }
    }

    /// The error for a factorisation used as a value (`chol + x`, `chol` returned).
    pub(super) fn factor_as_value(
        &mut self,
        tokens: impl quote::ToTokens,
        id: Id,
    ) -> Option<Result<Id, ()>> {
        let what = kind(self.g.op(id))?;
        let methods = if matches!(self.g.op(id), Op::CholeskyOf(_)) {
            CHOLESKY_METHODS
        } else {
            LU_METHODS
        };
        Some(self.fail(
            tokens,
            format!("this is {what}, not a matrix: use it through its methods {methods}"),
        ))
    }
}
