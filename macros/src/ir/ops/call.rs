//! A call of a function on constants only: a constant of the gradient,
//! computed once by the user's own function.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, Formula};
use crate::shape::{Dims, Shape};

/// `f(a, b)` where no argument depends on a differentiated value: called as
/// written, with no derivative (`dc = 0`). Also a method of such a value
/// (`(t / dt).ceil()`), and a call unwrapped (`T::from_usize(n).unwrap()`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConstCall {
    /// The function's path, as the generated code reaches it.
    pub path: String,
    /// Whether each argument was passed by reference (`&a`).
    pub borrowed: Vec<bool>,
    /// The result's shape: a scalar unless a `let` declares its type.
    pub shape: Shape,
    /// Called as a method of its first argument: `path` is the method's name.
    pub method: bool,
    /// The result unwrapped (an `Option`, as `from_usize` returns).
    pub unwrap: bool,
}

impl Rule for ConstCall {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.shape)
    }
    /// Real, whatever its arguments (a complex parameter not differentiated):
    /// the emitted binding's type says so, or the call does not compile.
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let path: TokenStream = self.path.parse().expect("a call's path is a path");
        let mut args = a.iter().zip(&self.borrowed).map(|(v, &borrowed)| {
            let x = v.receiver();
            match (borrowed, v) {
                (true, _) => quote!(&#x),
                (false, Value::Scalar(_)) => quote!(#x),
                (false, _) => quote!(#x.clone()),
            }
        });
        let mut called = if self.method {
            let receiver = args.next().expect("a method's receiver");
            quote!((#receiver).#path(#(#args),*))
        } else {
            quote!(#path(#(#args),*))
        };
        if self.unwrap {
            called.extend(quote!(.unwrap()));
        }
        let ty = match self.shape {
            Shape::Scalar => {
                let t = cx.scalar_type();
                quote!(: #t)
            }
            _ => quote!(),
        };
        // (Bound with its type, so that a function returning something else
        // is reported at the call.)
        quote!({ let c #ty = #called; c })
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        vec![None; self.borrowed.len()]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&self.path, a)
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
}
