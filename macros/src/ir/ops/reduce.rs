//! Reductions of a matrix to a scalar: norms and sums.

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::code::Value;
use crate::ir::graph::{Field, Id};
use crate::notation::{call, postfix, product, Formula};
use crate::shape::{Dims, Shape};

/// `c = ‖A‖_F`: `dc = ⟨A, dA⟩/c`, so `Ā = A c̄/c` (undefined at `A = 0`, where
/// the norm has no derivative); for a complex `A`, `dc = Re⟨A, dA⟩/c`, the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Norm;

impl Rule for Norm {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`norm`")?;
        Ok(Shape::Scalar)
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.norm())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let s = g.over(cbar, node);
        vec![Some(g.times(a, s))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        Formula::atom(format!("‖{}‖", a[0].text))
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dc = Re⟨A, dA⟩/c
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| {
            let inner = g.inner(a, da);
            let inner = g.re(inner);
            g.over(inner, node)
        }))
    }
}

/// `c = ‖A‖²_F = ⟨A, A⟩`: `dc = 2⟨A, dA⟩`, so `Ā = 2 c̄ A`; for a complex
/// `A`, `dc = 2 Re⟨A, dA⟩`, the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormSquared;

impl Rule for NormSquared {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`norm_squared`")?;
        Ok(Shape::Scalar)
    }
    fn field(&self, _: &[Field]) -> Option<Field> {
        Some(Field::Real)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.norm_squared())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let two = g.lit(2.0);
        let s = g.times(two, cbar);
        vec![Some(g.times(a, s))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        postfix(&Formula::atom(format!("‖{}‖", a[0].text)), "²")
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        // dc = 2 Re⟨A, dA⟩
        let a = g.node(node).args[0];
        Ok(dargs[0].map(|da| {
            let inner = g.inner(a, da);
            let inner = g.re(inner);
            let two = g.lit(2.0);
            g.times(two, inner)
        }))
    }
}

/// `c = Σᵢⱼ Aᵢⱼ = ⟨𝟙, A⟩`: `dc = ⟨𝟙, dA⟩`, so `Ā = c̄ 𝟙`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sum;

impl Rule for Sum {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`sum`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.sum())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let shape = g.shape(a);
        vec![Some(g.build(Filled(shape), &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("sum", a)
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Sum, dargs)
    }
}

/// `C = s 𝟙`, a matrix of the given shape filled with `s` (built by the
/// differentiator for `sum`): `dC = ds 𝟙`, so `s̄ = sum(C̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filled(pub Shape);

impl Rule for Filled {
    fn shape(&self, _: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        Ok(self.0)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (p, s) = (cx.private(), a[0].operand());
        let (r, c) = (cx.dim(self.0.rows()), cx.dim(self.0.cols()));
        quote!(#p::filled(#r, #c, #s))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(g.build(Sum, &[cbar]))]
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        product(&a[0], &Formula::atom("𝟙"))
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|ds| g.build(self.clone(), &[ds])))
    }
}

/// Which axis a reduction runs along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    /// `row_sum`, `row_mean`: over the rows, one entry per column (a row vector).
    Rows,
    /// `column_sum`, `column_mean`: over the columns, one entry per row.
    Columns,
}

impl Axis {
    /// The shape of the reduction of a matrix of shape `s`.
    fn reduced(self, s: Shape) -> Shape {
        match self {
            Axis::Rows => Shape::Matrix(crate::shape::Dim::Fixed(1), s.cols()),
            Axis::Columns => Shape::Matrix(s.rows(), crate::shape::Dim::Fixed(1)),
        }
    }

    /// `c̄` repeated along the reduced axis, to the shape `s`: `𝟙 c̄` (a
    /// column of ones times the row `c̄`) or `c̄ 𝟙ᵀ`.
    fn broadcast(self, g: &mut Graph, cbar: Id, s: Shape) -> Id {
        let one = g.lit(1.0);
        match self {
            Axis::Rows => {
                let ones = g.build(
                    Filled(Shape::Matrix(s.rows(), crate::shape::Dim::Fixed(1))),
                    &[one],
                );
                g.matmul(ones, cbar)
            }
            Axis::Columns => {
                let ones = g.build(
                    Filled(Shape::Matrix(crate::shape::Dim::Fixed(1), s.cols())),
                    &[one],
                );
                g.matmul(cbar, ones)
            }
        }
    }

    fn name(self, what: &str) -> String {
        match self {
            Axis::Rows => format!("row_{what}"),
            Axis::Columns => format!("column_{what}"),
        }
    }
}

/// `c = row_sum(A) = 𝟙ᵀA` (1×n, the sum of the rows) or `column_sum(A) = A𝟙`
/// (m×1): linear, so `Ā = 𝟙c̄` (each row `c̄`) or `c̄𝟙ᵀ` (each column `c̄`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AxisSum(pub Axis);

impl Rule for AxisSum {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], &format!("`{}`", self.0.name("sum")))?;
        Ok(self.0.reduced(a[0]))
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        match self.0 {
            Axis::Rows => quote!(#x.row_sum()),
            Axis::Columns => quote!(#x.column_sum()),
        }
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let shape = g.shape(g.node(node).args[0]);
        vec![Some(self.0.broadcast(g, cbar, shape))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, self.clone(), dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&self.0.name("sum"), a)
    }
}

/// `c = row_mean(A) = 𝟙ᵀA/m` or `column_mean(A) = A𝟙/n` (nalgebra's: an
/// empty axis gives 0): linear, so `Ā = 𝟙c̄/m` or `c̄𝟙ᵀ/n`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AxisMean(pub Axis);

impl Rule for AxisMean {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], &format!("`{}`", self.0.name("mean")))?;
        Ok(self.0.reduced(a[0]))
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        match self.0 {
            Axis::Rows => quote!(#x.row_mean()),
            Axis::Columns => quote!(#x.column_mean()),
        }
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let count = match self.0 {
            Axis::Rows => Count::Rows,
            Axis::Columns => Count::Columns,
        };
        let n = g.build(count, &[a]);
        let scaled = g.over(cbar, n);
        let shape = g.shape(a);
        vec![Some(self.0.broadcast(g, scaled, shape))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, self.clone(), dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call(&self.0.name("mean"), a)
    }
}

/// The number of rows, columns or entries of a matrix as a scalar of the
/// function's type: a constant of the gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Count {
    Rows,
    Columns,
    Entries,
}

impl Rule for Count {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "a count")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, cx: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        let n = match self {
            Count::Rows => quote!(#x.nrows()),
            Count::Columns => quote!(#x.ncols()),
            Count::Entries => quote!(#x.len()),
        };
        let (p, ty) = (cx.private(), cx.scalar_type());
        // As nalgebra's `mean` converts it.
        quote!(#p::nalgebra::convert::<f64, #ty>(#n as f64))
    }
    fn adjoint(&self, _: &mut Graph, _: Id, _: Id) -> Vec<Option<Id>> {
        vec![None]
    }
    fn tangent(&self, _: &mut Graph, _: Id, _: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(None)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        let name = match self {
            Count::Rows => "nrows",
            Count::Columns => "ncols",
            Count::Entries => "len",
        };
        call(name, a)
    }
}

/// `μ = mean(A) = sum(A)/N` (0 for an empty matrix, as nalgebra's):
/// `dμ = ⟨𝟙, dA⟩/N`, so `Ā = (μ̄/N) 𝟙`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mean;

impl Rule for Mean {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`mean`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.mean())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let a = g.node(node).args[0];
        let n = g.build(Count::Entries, &[a]);
        let s = g.over(cbar, n);
        vec![Some(g.build(Filled(g.shape(a)), &[s]))]
    }
    fn tangent(&self, g: &mut Graph, _: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        linear_tangent(g, Mean, dargs)
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("mean", a)
    }
}

/// `σ² = variance(A) = ‖A − μ𝟙‖²/N`, dividing by `N` as nalgebra does (0 for
/// an empty matrix). `Σ(Aᵢⱼ − μ) = 0`, so `dσ² = 2⟨A − μ𝟙, dA − dμ𝟙⟩/N =
/// 2⟨A − μ𝟙, dA⟩/N` and `Ā = (2σ̄²/N)(A − μ𝟙)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Variance;

/// `(A − μ𝟙, N)` for the rules of `variance`.
fn centred(g: &mut Graph, node: Id) -> (Id, Id) {
    let a = g.node(node).args[0];
    let mean = g.build(Mean, &[a]);
    let minus_mean = g.neg(mean);
    let centred = g.build(AddScalar, &[a, minus_mean]);
    (centred, g.build(Count::Entries, &[a]))
}

impl Rule for Variance {
    fn shape(&self, a: &[Shape], _: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`variance`")?;
        Ok(Shape::Scalar)
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let x = a[0].receiver();
        quote!(#x.variance())
    }
    fn adjoint(&self, g: &mut Graph, node: Id, cbar: Id) -> Vec<Option<Id>> {
        let (centred, n) = centred(g, node);
        let two = g.lit(2.0);
        let twice = g.times(two, cbar);
        let s = g.over(twice, n);
        vec![Some(g.times(centred, s))]
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        Ok(dargs[0].map(|da| {
            let (centred, n) = centred(g, node);
            let inner = g.dot(centred, da);
            let two = g.lit(2.0);
            let twice = g.times(two, inner);
            g.over(twice, n)
        }))
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        call("variance", a)
    }
}

/// `C = A + s𝟙` (`add_scalar`): `dC = dA + ds 𝟙`, so `Ā = C̄`, `s̄ = sum(C̄)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddScalar;

impl Rule for AddScalar {
    fn shape(&self, a: &[Shape], dims: &mut Dims) -> Result<Shape, String> {
        matrix(a[0], "`add_scalar`")?;
        scalar(a[1], dims, "`add_scalar`")?;
        Ok(a[0])
    }
    fn emit(&self, _: &dyn EmitCx, a: &[Value]) -> TokenStream {
        let (x, s) = (a[0].receiver(), a[1].operand());
        quote!(#x.add_scalar(#s))
    }
    fn adjoint(&self, g: &mut Graph, _: Id, cbar: Id) -> Vec<Option<Id>> {
        vec![Some(cbar), Some(g.build(Sum, &[cbar]))]
    }
    fn tangent(&self, g: &mut Graph, node: Id, dargs: &[Option<Id>]) -> Result<Option<Id>, ()> {
        let shape = g.shape(node);
        Ok(match (dargs[0], dargs[1]) {
            (Some(da), Some(ds)) => Some(g.build(AddScalar, &[da, ds])),
            (Some(da), None) => Some(da),
            (None, Some(ds)) => Some(g.build(Filled(shape), &[ds])),
            (None, None) => None,
        })
    }
    fn formula(&self, a: &[Formula]) -> Formula {
        crate::notation::infix(
            &a[0],
            " + ",
            &product(&a[1], &Formula::atom("𝟙")),
            crate::notation::SUM,
        )
    }
}
