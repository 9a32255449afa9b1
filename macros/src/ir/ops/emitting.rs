//! What an operation's rule may ask of the emitter while it writes its node:
//! the node's shape and field, the function's types and constants, and the
//! closures the emitter writes from a body of the graph. The emitter (`emit`)
//! implements it; the rules see no more of it.

use proc_macro2::{Ident, TokenStream};

use crate::code::{ClosureParam, Value};
use crate::ir::graph::{Field, Id};
use crate::shape::{Dim, Shape};

/// The emitter as the rules see it (see [`super::Rule::emit`]).
pub trait EmitCx {
    /// The shape of the value being emitted.
    fn shape(&self) -> Shape;

    /// The shape of argument `i` of the value being emitted.
    fn arg_shape(&self, i: usize) -> Shape;

    /// Whether the entries of the value being emitted are real or complex.
    fn field(&self) -> Field;

    /// Whether the entries of its argument `arg` are real or complex.
    fn arg_field(&self, arg: usize) -> Field;

    /// The function's scalar type (`f64`, `f32` or its generic parameter).
    fn scalar_type(&self) -> TokenStream;

    /// The type of the entries of the value being emitted: the scalar type,
    /// or the complex numbers over it.
    fn element_type(&self) -> TokenStream;

    /// The path of the runtime's private helpers (`::matgrad::__private`).
    fn private(&self) -> &TokenStream;

    /// A literal of the function's scalar type, as one token tree.
    fn lit(&self, v: f64) -> TokenStream;

    /// nalgebra's run-time value of a dimension, of the dimension's own type
    /// (`Const::<3>` or a `Dyn` read off the parameter it came from).
    fn dim(&self, d: Dim) -> TokenStream;

    /// Whether sizes `a` and `b` are known to be equal.
    fn same_size(&self, a: Dim, b: Dim) -> bool;

    /// The function's parameter number `index`, as its body reads it.
    fn param(&self, index: usize) -> Value;

    /// A constant read from a field, as written (`self.x`).
    fn constant(&self, index: usize) -> Value;

    /// The value a closure captures as its capture `k`.
    fn captured(&self, k: usize) -> &Value;

    /// The parameter `v` of the closure being written.
    fn lambda_param(&self) -> TokenStream;

    /// Whether the product being emitted writes its first factor inside it (the plan's
    /// `formed_factors`).
    fn forms_first_factor(&self) -> bool;

    /// Whether the value being emitted is read only through its lower triangle
    /// and may be borrowed as such (a Cholesky factor's `l_dirty()`).
    fn borrows_lower_triangle(&self) -> bool;

    /// The buffer the node being emitted may write into instead of a new
    /// matrix, if it has one.
    fn spare(&self) -> Option<&Ident>;

    /// The weight of one entry of the map of `body` being emitted (`emit::work`) if
    /// it is of dynamic size and weighs at least one costly call (`exp`, `tanh`, …): the
    /// runtime weighs such a map's entries before splitting them across threads
    /// (`__private::map_costly`). `None` otherwise, the map left to nalgebra.
    fn costly_map_weight(&self, body: Id) -> Option<usize>;

    /// Whether computing `root` reads `target`.
    fn uses(&self, root: Id, target: Id) -> bool;

    /// Whether `root` reads the closure's parameter `v` other than through
    /// `bound`, a node the closure receives as a parameter of its own.
    fn reads_lambda(&self, root: Id, bound: Id) -> bool;

    /// `|params| root`, the scalar expression `root` computed from the closure's
    /// parameters.
    fn closure(&self, root: Id, params: &[ClosureParam], captured: &[Value]) -> TokenStream;

    /// `|params| (first, second)`, the two sharing their common subexpressions.
    fn closure_pair(
        &self,
        first: Id,
        second: Id,
        params: &[ClosureParam],
        captured: &[Value],
    ) -> TokenStream;

    /// `|adjoint, params| adjoint * root`.
    fn closure_times_adjoint(
        &self,
        root: Id,
        params: &[ClosureParam],
        captured: &[Value],
    ) -> TokenStream;
}
