//! Shapes: scalars and matrices whose dimensions are either fixed by the
//! nalgebra type (`Matrix2x3`) or dynamic (`DMatrix`). Dynamic dimensions are
//! symbols that unify across operations; a symbol can learn a fixed value when
//! it meets a fixed dimension, and two different fixed values are an error.
//!
//! A `Dim` is also the *type-level* dimension nalgebra gives the value: the
//! emitted code never names a type, so these rules follow nalgebra's own.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Dim {
    Fixed(usize),
    /// A dynamic dimension: an index into [`Dims`].
    Dynamic(u32),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Shape {
    /// A float scalar of the function's scalar type.
    Scalar,
    Matrix(Dim, Dim),
    /// An integer (a size, an index, a count): a constant of the gradient.
    Int,
    /// A `bool`, from a comparison: a constant of the gradient.
    Bool,
    /// Any other value the body passes around without computing with it
    /// (a slice of data, a user's struct): a constant of the gradient.
    Data,
}

/// Where a dynamic dimension can be read at run time.
#[derive(Clone, Debug)]
pub enum Origin {
    /// An axis (0 for rows, 1 for columns) of a parameter.
    Param { param: String, axis: usize },
    /// The product of two dimensions (of a Kronecker product).
    Product(Dim, Dim),
    /// An axis of a constant read from a field (`self.x`), by its index.
    Constant { index: usize, axis: usize },
    /// The value of an integer node (the `n` of `x.rows(a, n)`).
    Int(crate::id::Id),
    /// An axis of the elements of a data parameter (`xs: &[DVector<f64>]`): every element
    /// has the size of the first, as the body's own operations on them require.
    Element { data: String, axis: usize },
}

/// Union-find over dynamic dimensions.
#[derive(Default)]
pub struct Dims {
    parent: Vec<u32>,
    value: Vec<Option<usize>>,
    origin: Vec<Origin>,
}

impl Dims {
    pub fn fresh(&mut self, origin: Origin) -> Dim {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        self.value.push(None);
        self.origin.push(origin);
        Dim::Dynamic(id)
    }

    fn root(&self, mut d: u32) -> u32 {
        while self.parent[d as usize] != d {
            d = self.parent[d as usize];
        }
        d
    }

    /// The fixed value of `d`, if it has one (directly or by unification).
    pub fn value(&self, d: Dim) -> Option<usize> {
        match d {
            Dim::Fixed(n) => Some(n),
            Dim::Dynamic(s) => self.value[self.root(s) as usize],
        }
    }

    /// Where the run-time value of a dynamic dimension can be read.
    pub fn origin(&self, s: u32) -> &Origin {
        &self.origin[s as usize]
    }

    /// Records that `a` and `b` are equal; fails when that cannot hold.
    pub fn unify(&mut self, a: Dim, b: Dim) -> Result<(), ()> {
        match (a, b) {
            (Dim::Fixed(m), Dim::Fixed(n)) => (m == n).then_some(()).ok_or(()),
            (Dim::Fixed(n), Dim::Dynamic(s)) | (Dim::Dynamic(s), Dim::Fixed(n)) => {
                let r = self.root(s) as usize;
                match self.value[r] {
                    Some(m) if m != n => Err(()),
                    _ => {
                        self.value[r] = Some(n);
                        Ok(())
                    }
                }
            }
            (Dim::Dynamic(s), Dim::Dynamic(t)) => {
                let (rs, rt) = (self.root(s), self.root(t));
                if rs == rt {
                    return Ok(());
                }
                let (vs, vt) = (self.value[rs as usize], self.value[rt as usize]);
                if let (Some(m), Some(n)) = (vs, vt) {
                    if m != n {
                        return Err(());
                    }
                }
                self.parent[rt as usize] = rs;
                self.value[rs as usize] = vs.or(vt);
                Ok(())
            }
        }
    }

    /// Where the run-time value of `d` can be read: the origins of every
    /// dimension unified with it (none for a fixed one).
    pub fn origins(&self, d: Dim) -> Vec<&Origin> {
        let Dim::Dynamic(s) = d else {
            return Vec::new();
        };
        let root = self.root(s);
        (0..self.parent.len() as u32)
            .filter(|&t| self.root(t) == root)
            .map(|t| &self.origin[t as usize])
            .collect()
    }

    /// A dimension unified with `s` whose value is read off a parameter or a constant, if
    /// there is one; else `s`.
    pub fn readable(&self, s: u32) -> u32 {
        let root = self.root(s);
        (0..self.parent.len() as u32)
            .find(|&t| {
                self.root(t) == root
                    && matches!(
                        self.origin[t as usize],
                        Origin::Param { .. } | Origin::Constant { .. }
                    )
            })
            .unwrap_or(s)
    }

    /// Whether `a` and `b` are known to be equal.
    pub fn same(&self, a: Dim, b: Dim) -> bool {
        match (a, b) {
            (Dim::Dynamic(s), Dim::Dynamic(t)) if self.root(s) == self.root(t) => true,
            _ => matches!((self.value(a), self.value(b)), (Some(m), Some(n)) if m == n),
        }
    }

    pub fn show(&self, shape: Shape) -> ShowShape<'_> {
        ShowShape { dims: self, shape }
    }

    fn show_dim(&self, d: Dim) -> String {
        self.show_dim_within(d, &mut Vec::new())
    }

    /// `d` as the message names it, inside the products whose roots are
    /// `open`: a size unified with a product of itself (`y.nrows()` with
    /// `b.nrows()·y.nrows()`, which holds where `b` has one row) is named
    /// there by another of its origins, not unfolded for ever.
    fn show_dim_within(&self, d: Dim, open: &mut Vec<u32>) -> String {
        let Dim::Dynamic(s) = d else {
            return self.value(d).expect("a fixed dimension").to_string();
        };
        if let Some(n) = self.value(d) {
            return n.to_string();
        }
        let root = self.root(s);
        let origin = if open.contains(&root) {
            (self.origins(d).into_iter()).find(|o| !matches!(o, Origin::Product(..)))
        } else {
            Some(&self.origin[root as usize])
        };
        match origin {
            Some(Origin::Param { param, axis }) => {
                let axis = if *axis == 0 { "nrows" } else { "ncols" };
                format!("{param}.{axis}()")
            }
            Some(Origin::Product(a, b)) => {
                open.push(root);
                let text = format!(
                    "{}·{}",
                    self.show_dim_within(*a, open),
                    self.show_dim_within(*b, open)
                );
                open.pop();
                text
            }
            Some(Origin::Constant { axis, .. }) => ["rows", "columns"][*axis].to_owned(),
            Some(Origin::Element { data, axis }) => {
                let axis = if *axis == 0 { "nrows" } else { "ncols" };
                format!("{data}[i].{axis}()")
            }
            Some(Origin::Int(_)) | None => "n".to_owned(),
        }
    }
}

/// Displays a shape for error messages: `scalar`, `2×3 matrix`.
pub struct ShowShape<'a> {
    dims: &'a Dims,
    shape: Shape,
}

impl fmt::Display for ShowShape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shape {
            Shape::Scalar => write!(f, "a scalar"),
            Shape::Int => write!(f, "an integer"),
            Shape::Bool => write!(f, "a `bool`"),
            Shape::Data => write!(f, "data"),
            Shape::Matrix(r, c) => write!(
                f,
                "a {}×{} matrix",
                self.dims.show_dim(r),
                self.dims.show_dim(c)
            ),
        }
    }
}

/// nalgebra's type-level product of two dimensions (`DimProd`): fixed when
/// both are, otherwise a new dynamic dimension read as their product.
pub fn product(a: Dim, b: Dim, dims: &mut Dims) -> Dim {
    match (a, b) {
        (Dim::Fixed(m), Dim::Fixed(n)) => Dim::Fixed(m * n),
        _ => {
            let d = dims.fresh(Origin::Product(a, b));
            if let (Some(m), Some(n)) = (dims.value(a), dims.value(b)) {
                let _ = dims.unify(d, Dim::Fixed(m * n));
            }
            d
        }
    }
}

/// nalgebra's type-level result of combining two equal dimensions: a fixed one
/// wins over a dynamic one.
pub fn merged(a: Dim, b: Dim) -> Dim {
    match (a, b) {
        (Dim::Dynamic(_), Dim::Fixed(_)) => b,
        _ => a,
    }
}

impl Shape {
    pub fn is_scalar(self) -> bool {
        self == Shape::Scalar
    }

    /// Whether values of this shape are constants of the gradient whatever
    /// they depend on (integers, `bool`s, data).
    pub fn is_constant(self) -> bool {
        matches!(self, Shape::Int | Shape::Bool | Shape::Data)
    }

    pub fn is_matrix(self) -> bool {
        matches!(self, Shape::Matrix(..))
    }

    pub fn rows(self) -> Dim {
        match self {
            Shape::Matrix(r, _) => r,
            _ => Dim::Fixed(1),
        }
    }

    pub fn cols(self) -> Dim {
        match self {
            Shape::Matrix(_, c) => c,
            _ => Dim::Fixed(1),
        }
    }

    /// Whether the type has a dynamic dimension (so that its value is on the heap).
    pub fn has_dynamic(self) -> bool {
        matches!(self.rows(), Dim::Dynamic(_)) || matches!(self.cols(), Dim::Dynamic(_))
    }

    pub fn transposed(self) -> Shape {
        match self {
            Shape::Matrix(r, c) => Shape::Matrix(c, r),
            other => other,
        }
    }
}

/// Whether a value of type-level shape `have` has the type of one of shape
/// `want` (fixed and dynamic dimensions in the same places).
pub fn conforms(have: Shape, want: Shape) -> bool {
    let same = |a: Dim, b: Dim| {
        matches!(
            (a, b),
            (Dim::Fixed(_), Dim::Fixed(_)) | (Dim::Dynamic(_), Dim::Dynamic(_))
        )
    };
    same(have.rows(), want.rows()) && same(have.cols(), want.cols())
}
