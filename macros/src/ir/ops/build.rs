//! Short names for building nodes, used by the parser and by the rules.

use super::*;
use crate::ir::graph::{Field, Id};
use crate::shape::{Dim, Shape};

impl Graph {
    /// Zero of a scalar's or a matrix's shape.
    pub fn zero(&mut self, shape: Shape) -> Id {
        let z = self.lit(0.0);
        match shape {
            Shape::Matrix(..) => self.build(Filled(shape), &[z]),
            _ => z,
        }
    }

    /// Whether node `id` is exactly zero: the literal, or a matrix of zeros.
    pub fn is_zero(&self, id: Id) -> bool {
        let n = self.node(id);
        match n.op {
            Op::Zeros(_) => true,
            Op::Filled(_) | Op::Fill(_) => self.lit_value(n.args[0]) == Some(0.0),
            _ => self.lit_value(id) == Some(0.0),
        }
    }

    /// Whether `id` is the integer literal 0 (a loop counting from the start).
    pub fn is_zero_int(&self, id: Id) -> bool {
        matches!(self.op(id), Op::IntLit(z) if z.0 == 0)
    }

    pub fn args2(&self, node: Id) -> [Id; 2] {
        let a = &self.node(node).args;
        [a[0], a[1]]
    }

    pub fn neg(&mut self, a: Id) -> Id {
        self.build(Neg, &[a])
    }

    pub fn plus(&mut self, a: Id, b: Id) -> Id {
        self.build(Add, &[a, b])
    }

    pub fn minus(&mut self, a: Id, b: Id) -> Id {
        self.build(Sub, &[a, b])
    }

    /// `a * b` as nalgebra reads it: scalar product, scaling, or matrix product.
    pub fn times(&mut self, a: Id, b: Id) -> Id {
        let (op, args) = self.product(a, b);
        self.build(op, &args)
    }

    /// `a / b` for a scalar `b`.
    pub fn over(&mut self, a: Id, b: Id) -> Id {
        let (op, args) = self.quotient(a, b);
        self.build(op, &args)
    }

    /// The operation `a * b` means, and its arguments in that operation's order.
    pub fn product(&self, a: Id, b: Id) -> (Op, [Id; 2]) {
        match (self.shape(a), self.shape(b)) {
            (Shape::Scalar, Shape::Scalar) => (Mul.into(), [a, b]),
            (Shape::Scalar, Shape::Matrix(..)) => (Scale.into(), [b, a]),
            (Shape::Matrix(..), Shape::Scalar) => (Scale.into(), [a, b]),
            (Shape::Matrix(..), Shape::Matrix(..)) => (MatMul.into(), [a, b]),
            (Shape::Int, Shape::Int) => (IntArith::Mul.into(), [a, b]),
            // Not well-typed: the shape rule reports it.
            _ => (Mul.into(), [a, b]),
        }
    }

    /// The operation `a / b` means.
    pub fn quotient(&self, a: Id, b: Id) -> (Op, [Id; 2]) {
        match (self.shape(a), self.shape(b)) {
            (Shape::Matrix(..), _) => (DivScalar.into(), [a, b]),
            (Shape::Int, Shape::Int) => (IntArith::Div.into(), [a, b]),
            _ => (Div.into(), [a, b]),
        }
    }

    pub fn transpose(&mut self, a: Id) -> Id {
        self.build(Transpose, &[a])
    }

    pub fn matmul(&mut self, a: Id, b: Id) -> Id {
        self.build(MatMul, &[a, b])
    }

    /// `aᵀ b`.
    pub fn tr_mul(&mut self, a: Id, b: Id) -> Id {
        self.build(TrMul, &[a, b])
    }

    pub fn dot(&mut self, a: Id, b: Id) -> Id {
        self.build(Dot, &[a, b])
    }

    /// `Aᴴ`, the conjugate transpose: `Aᵀ` for a real `A`.
    pub fn adjoint(&mut self, a: Id) -> Id {
        match self.field(a) {
            Field::Real => self.transpose(a),
            Field::Complex => self.build(Adjoint, &[a]),
        }
    }

    /// `conj(a)` entrywise: `a` itself for a real `a`.
    pub fn conj(&mut self, a: Id) -> Id {
        match self.field(a) {
            Field::Real => a,
            Field::Complex => self.build(Conj, &[a]),
        }
    }

    /// `aᴴ b` (`ad_mul`): `aᵀ b` for a real `a`.
    pub fn ad_mul(&mut self, a: Id, b: Id) -> Id {
        match self.field(a) {
            Field::Real => self.tr_mul(a, b),
            Field::Complex => self.build(AdMul, &[a, b]),
        }
    }

    /// `⟨a, b⟩ = Σ conj(aᵢⱼ) bᵢⱼ` (`dotc`): `dot` for a real `a`.
    pub fn inner(&mut self, a: Id, b: Id) -> Id {
        match self.field(a) {
            Field::Real => self.dot(a, b),
            Field::Complex => self.build(Dotc, &[a, b]),
        }
    }

    /// `Re a` (entrywise): `a` itself for a real `a`.
    pub fn re(&mut self, a: Id) -> Id {
        match self.field(a) {
            Field::Real => a,
            Field::Complex => self.build(Re, &[a]),
        }
    }

    /// `Im a` of a scalar: 0 for a real `a`.
    pub fn im(&mut self, a: Id) -> Id {
        match self.field(a) {
            Field::Real => self.lit(0.0),
            Field::Complex => self.build(Im, &[a]),
        }
    }

    /// `a` as a complex value.
    pub fn complex(&mut self, a: Id) -> Id {
        match self.field(a) {
            Field::Real => self.build(ToComplex, &[a]),
            Field::Complex => a,
        }
    }

    /// `a` as a value of `field`: its real part, or itself taken as complex.
    pub fn fit(&mut self, a: Id, field: Field) -> Id {
        match field {
            Field::Real => self.re(a),
            Field::Complex => self.complex(a),
        }
    }

    pub fn component_mul(&mut self, a: Id, b: Id) -> Id {
        self.build(ComponentMul, &[a, b])
    }

    /// `det A`: closed forms up to 3×3, an LU factorisation beyond.
    pub fn determinant(&mut self, a: Id) -> Result<Id, String> {
        if self.is_small_square(a) {
            return self.try_build(Determinant, &[a]);
        }
        let f = self.try_build(LuOf, &[a])?;
        self.try_build(LuDet, &[f])
    }

    /// `A⁻¹`: closed forms up to 3×3, an LU factorisation beyond.
    pub fn inverse(&mut self, a: Id, on_singular: OnSingular) -> Result<Id, String> {
        if self.is_small_square(a) {
            return self.try_build(Inverse(on_singular), &[a]);
        }
        let f = self.try_build(LuOf, &[a])?;
        self.try_build(LuInverse(on_singular), &[f])
    }

    /// `ln det A`: the logarithm of the closed form up to 3×3, from an LU
    /// factorisation beyond (no determinant formed, so no overflow).
    pub fn logdet(&mut self, a: Id) -> Result<Id, String> {
        // (The logarithm of a complex determinant is complex, of the determinant.)
        if self.is_small_square(a) || self.is_complex(a) {
            let det = self.determinant(a)?;
            return self.try_build(Ln, &[det]);
        }
        let f = self.try_build(LuOf, &[a])?;
        self.try_build(LuLogDet, &[f])
    }

    /// A fixed-size square matrix of at most 3×3, where nalgebra's closed forms
    /// beat a factorisation.
    pub fn is_small_square(&self, a: Id) -> bool {
        match self.shape(a) {
            Shape::Matrix(r, c) => {
                matches!((r, c), (Dim::Fixed(m), Dim::Fixed(n)) if m == n && n <= 3)
            }
            _ => false,
        }
    }
}
