//! The complex vocabulary beyond the method tables: the parts `z.re` and
//! `z.im` of a complex scalar, and `Complex::new(re, im)`.

use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprField, Member};

use super::{is_field, BodyParser};
use crate::ir::ops::*;
use crate::ir::Id;

impl BodyParser<'_> {
    /// `z.re` or `z.im` of a complex scalar (`None` for any other field,
    /// or a field of `self` or of data, read as a constant).
    pub(super) fn complex_part(&mut self, f: &ExprField) -> Option<Result<Id, ()>> {
        let Member::Named(member) = &f.member else {
            return None;
        };
        let re = match member.to_string().as_str() {
            "re" => true,
            "im" => false,
            _ => return None,
        };
        if is_field(&f.base) || self.is_data(&f.base) {
            return None;
        }
        let z = match self.expr(&f.base) {
            Ok(z) => z,
            Err(()) => return Some(Err(())),
        };
        self.g.span = f.span();
        if !self.g.shape(z).is_scalar() || !self.g.is_complex(z) {
            let shown = self.g.dims.show(self.g.shape(z)).to_string();
            let kind = if self.g.is_complex(z) {
                "complex "
            } else {
                "real "
            };
            return Some(self.error(
                f,
                format!("`.{member}` is a part of a complex scalar; this is {kind}{shown}"),
            ));
        }
        Some(if re {
            self.build(f, Re, &[z])
        } else {
            self.build(f, Im, &[z])
        })
    }

    /// Whether `e` names a parameter or binding matgrad reads as data (whose
    /// fields are constants).
    fn is_data(&self, e: &Expr) -> bool {
        let Expr::Path(p) = e else { return false };
        let Some(name) = p.path.get_ident().map(ToString::to_string) else {
            return false;
        };
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .is_some_and(|(_, b)| match b {
                super::Binding::Node(id) => self.g.shape(*id).is_constant(),
                super::Binding::Unusable(_) => true,
                super::Binding::Poisoned | super::Binding::Closure(_) => false,
            })
    }

    /// `Complex::new(re, im)` (by any path ending in `Complex::new`) of real
    /// scalars.
    pub(super) fn complex_constructor(&mut self, c: &ExprCall) -> Option<Result<Id, ()>> {
        let Expr::Path(p) = &*c.func else { return None };
        let n = p.path.segments.len();
        if p.qself.is_some() || n < 2 || p.path.segments[n - 2].ident != "Complex" {
            return None;
        }
        if p.path.segments[n - 1].ident != "new" {
            return None;
        }
        if c.args.len() != 2 {
            return Some(self.error(
                c,
                format!(
                    "`Complex::new` takes 2 arguments (the real and imaginary parts), found {}",
                    c.args.len()
                ),
            ));
        }
        let parts: Vec<Result<Id, ()>> = c.args.iter().map(|a| self.expr(a)).collect();
        let (re, im) = match (&parts[0], &parts[1]) {
            (Ok(re), Ok(im)) => (*re, *im),
            _ => return Some(Err(())),
        };
        self.g.span = c.span();
        if self.g.is_complex(re) || self.g.is_complex(im) {
            return Some(self.error(c, "`Complex::new` takes two real scalars"));
        }
        // (num-complex mixes `Complex<T>` with `T` only for `f64` and `f32`.)
        if let crate::ir::Scalar::Generic(t) = &self.g.scalar {
            return Some(self.error(
                c,
                format!("complex values in a loss generic over its scalar `{t}` are not supported yet; write it for `f64` or `f32`"),
            ));
        }
        Some(self.build(c, FromParts, &[re, im]))
    }
}
