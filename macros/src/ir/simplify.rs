//! Algebraic rewrites, applied as each node is built (so the graph never holds
//! the unsimplified form). A named table in the style of egg's `rw!`: each rule
//! looks at an operation and its (already simplified) arguments and may return
//! an equal, cheaper node. Every rule is an identity of exact arithmetic.

use crate::ir::graph::{Field, Id};
use crate::ir::ops::*;
use crate::shape::Shape;

type RuleFn = fn(&mut Graph, &Op, &[Id]) -> Option<Id>;

/// The rewrite table, tried in order; the first that applies wins.
pub const RULES: &[(&str, RuleFn)] = &[
    ("fold-literals", fold_literals),
    ("int-plus-minus-zero", int_plus_minus_zero),
    ("times-one", times_one),
    ("literal-factor-first", literal_factor_first),
    ("times-minus-one-is-neg", times_minus_one_is_neg),
    ("neg-neg", neg_neg),
    ("neg-literal-scale", neg_literal_scale),
    ("scale-of-neg", scale_of_neg),
    ("quotient-cancels", quotient_cancels),
    ("transpose-transpose", transpose_transpose),
    ("transpose-scale", transpose_scale),
    ("transpose-identity", transpose_identity),
    ("transpose-product-cancel", transpose_product_cancel),
    ("scale-scale", scale_scale),
    ("scale-out-of-product", scale_out_of_product),
    ("neg-out-of-product", neg_out_of_product),
    ("identity-product", identity_product),
    ("transpose-times-is-tr-mul", transpose_times_is_tr_mul),
    ("trace-of-product-is-tr-dot", trace_of_product),
    ("trace-of-transpose", trace_of_transpose),
    ("tr-dot-of-transpose-is-dot", tr_dot_of_transpose),
    ("dot-of-transposes", dot_of_transposes),
    ("add-neg-is-sub", add_neg_is_sub),
    ("plus-zero", plus_zero),
    ("sum-of-transposes", sum_of_transposes),
    ("add-self-is-double", add_self_is_double),
    ("repeated-term-is-double", repeated_term_is_double),
    ("powi-zero-one", powi_zero_one),
    ("ln-of-det-is-logdet", ln_of_det_is_logdet),
    (
        "cofactors-over-det-is-inverse",
        cofactors_over_det_is_inverse,
    ),
    ("kron-mixed-product", kron_mixed_product),
    ("kron-transpose", kron_transpose),
    ("kron-scale-out", kron_scale_out),
    ("trace-of-kron", trace_of_kron),
    ("det-of-kron", det_of_kron),
    ("inverse-of-kron", inverse_of_kron),
    ("hadamard-of-krons", hadamard_of_krons),
    ("hadamard-scale-out", hadamard_scale_out),
    ("tr-dot-of-tr-mul-is-dot", tr_dot_of_tr_mul),
    ("quadratic-form-symmetrised", quadratic_form_symmetrised),
    ("transpose-of-symmetric-sum", transpose_of_symmetric_sum),
    ("tr-mul-of-symmetric-sum", tr_mul_of_symmetric_sum),
    ("trace-cyclic-cheapest", trace_cyclic_cheapest),
    ("hadamard-filled-is-scale", hadamard_filled_is_scale),
    (
        "map-adjoint-constant-is-scale",
        map_adjoint_constant_is_scale,
    ),
    ("map-adjoint-of-filled", map_adjoint_of_filled),
    ("map-derivative-of-itself", map_derivative_of_itself),
    ("map-adjoint-of-itself", map_adjoint_of_itself),
    (
        "map-adjoint-captured-is-scale",
        map_adjoint_captured_is_scale,
    ),
    ("entry-of-map", entry_of_map),
    ("entry-of-row", entry_of_row),
    ("sum-of-neg", sum_of_neg),
    ("sum-of-scale", sum_of_scale),
    ("extremum-of-zero-weight", extremum_of_zero_weight),
    ("conj-conj", conj_conj),
    ("adjoint-adjoint", adjoint_adjoint),
    ("conjugate-transposes", conjugate_transposes),
    ("adjoint-scale", adjoint_scale),
    ("adjoint-identity", adjoint_identity),
    ("adjoint-times-is-ad-mul", adjoint_times_is_ad_mul),
    ("trace-of-ad-mul-is-dotc", trace_of_ad_mul),
    ("parts-of-parts", parts_of_parts),
    ("real-operand-of-complex", real_operand_of_complex),
];

pub fn rewrite(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    RULES.iter().find_map(|(_, rule)| rule(g, op, args))
}

/// The operation of node `id`, and its arguments.
fn parts(g: &Graph, id: Id) -> (&Op, &[Id]) {
    let n = g.node(id);
    (&n.op, &n.args)
}

/// `2 * 3 ⇒ 6`, `−(2) ⇒ −2`: arithmetic on literals.
fn fold_literals(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let v: Vec<f64> = args
        .iter()
        .map(|&a| g.lit_value(a))
        .collect::<Option<_>>()?;
    let r = match op {
        Op::Neg(_) => -v[0],
        Op::Add(_) => v[0] + v[1],
        Op::Sub(_) => v[0] - v[1],
        Op::Mul(_) => v[0] * v[1],
        Op::Div(_) if v[1] != 0.0 => v[0] / v[1],
        _ => return None,
    };
    Some(g.lit(r))
}

/// `i − 0 ⇒ i`, `i + 0 ⇒ i` on integers.
fn int_plus_minus_zero(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let zero = |i: usize| matches!(g.op(args[i]), Op::IntLit(IntLit(0)));
    match op {
        Op::IntArith(IntArith::Sub | IntArith::Add) if zero(1) => Some(args[0]),
        Op::IntArith(IntArith::Add) if zero(0) => Some(args[1]),
        _ => None,
    }
}

/// `1 x ⇒ x`, `x 1 ⇒ x`, `A 1 ⇒ A`, `x / 1 ⇒ x`.
fn times_one(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let one = |i: usize| g.lit_value(args[i]) == Some(1.0);
    match op {
        Op::Mul(_) if one(0) => Some(args[1]),
        Op::Mul(_) | Op::Scale(_) | Op::Div(_) | Op::DivScalar(_) if one(1) => Some(args[0]),
        _ => None,
    }
}

/// `x c ⇒ c x`, `c₁ (c₂ x) ⇒ (c₁ c₂) x` for scalar literals `c`: one
/// order for products with a constant, so that `0.5 r + r 0.5` meets as
/// `2 (0.5 r)` and folds to `r`.
fn literal_factor_first(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Mul(_) = op else { return None };
    let (x, y) = (args[0], args[1]);
    if g.lit_value(y).is_some() && g.lit_value(x).is_none() {
        return Some(g.times(y, x));
    }
    let c1 = g.lit_value(x)?;
    let (Op::Mul(_), inner) = parts(g, y) else {
        return None;
    };
    let (c2, z) = (g.lit_value(inner[0])?, inner[1]);
    let c = g.lit(c1 * c2);
    Some(g.times(c, z))
}

/// `(−1) x ⇒ −x`, `A (−1) ⇒ −A`.
fn times_minus_one_is_neg(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let minus_one = |i: usize| g.lit_value(args[i]) == Some(-1.0);
    match op {
        Op::Mul(_) if minus_one(0) => Some(g.neg(args[1])),
        Op::Mul(_) | Op::Scale(_) if minus_one(1) => Some(g.neg(args[0])),
        _ => None,
    }
}

/// `(c/x) x ⇒ c`, `(c/x)(−x) ⇒ −c`, `(−(c/x)) x ⇒ −c`, either order: a derivative that is
/// exactly constant (`∂ₘ(m + ln Σ e^{v−m}) = 1 − 1 = 0`) folds to its constant
/// instead of being computed from rounded terms. Equal for `x ≠ 0`; at
/// `x = 0` the value the loss computes through `c/x` is not finite already.
fn quotient_cancels(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Mul(_) = op else { return None };
    // `±x` as `x` and whether it is negated.
    let signed = |x: Id| match parts(g, x) {
        (Op::Neg(_), inner) => (inner[0], true),
        _ => (x, false),
    };
    let cancel = |q: Id, y: Id| -> Option<(Id, bool)> {
        let ((q, q_negated), (y, y_negated)) = (signed(q), signed(y));
        let (Op::Div(_), qa) = parts(g, q) else {
            return None;
        };
        (qa[1] == y).then_some((qa[0], q_negated != y_negated))
    };
    let (c, negate) = cancel(args[0], args[1]).or_else(|| cancel(args[1], args[0]))?;
    Some(if negate { g.neg(c) } else { c })
}

/// `−(−x) ⇒ x`.
fn neg_neg(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Neg(_) = op else { return None };
    match (op, parts(g, args[0])) {
        (Op::Neg(_), (Op::Neg(_), inner)) => Some(inner[0]),
        _ => None,
    }
}

/// `−(c A) ⇒ (−c) A` and `−(c x) ⇒ (−c) x` for a literal `c`.
fn neg_literal_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Neg(_) = op else { return None };
    let (inner_op, inner) = parts(g, args[0]);
    let (inner_op, inner) = (inner_op.clone(), inner.to_vec());
    let (lit_at, other) = match inner_op {
        Op::Scale(_) => (1, 0),
        Op::Mul(_) => (0, 1),
        _ => return None,
    };
    let c = g.lit_value(inner[lit_at])?;
    let neg_c = g.lit(-c);
    Some(g.times(neg_c, inner[other]))
}

/// `(−A) α ⇒ A (−α)`: the scalar negated, not the matrix (and a scaled
/// product stays one `gemm`).
fn scale_of_neg(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Scale(_) = op else { return None };
    let (Op::Neg(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let a = inner[0];
    let minus_alpha = g.neg(args[1]);
    Some(g.times(a, minus_alpha))
}

/// `(Aᵀ)ᵀ ⇒ A`.
fn transpose_transpose(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Transpose(_) = op else { return None };
    match (op, parts(g, args[0])) {
        (Op::Transpose(_), (Op::Transpose(_), inner)) => Some(inner[0]),
        _ => None,
    }
}

/// `(α A)ᵀ ⇒ α Aᵀ`: scalars move outward, where they meet other scalars.
fn transpose_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Transpose(_) = op else { return None };
    let (Op::Scale(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (m, s) = (inner[0], inner[1]);
    let mt = g.transpose(m);
    Some(g.times(mt, s))
}

/// `(α I)ᵀ ⇒ α I`.
fn transpose_identity(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Transpose(_) = op else { return None };
    let (Op::ScaledIdentity(ScaledIdentity(shape)), inner) = parts(g, args[0]) else {
        return None;
    };
    let (shape, s) = (shape.transposed(), inner[0]);
    Some(g.build(ScaledIdentity(shape), &[s]))
}

/// `(A Bᵀ)ᵀ ⇒ B Aᵀ`, `(Aᵀ B)ᵀ ⇒ Bᵀ A`: a transpose cancels.
fn transpose_product_cancel(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Transpose(_) = op else { return None };
    if let (Op::TrMul(_), inner) = parts(g, args[0]) {
        let (a, b) = (inner[0], inner[1]);
        return Some(g.tr_mul(b, a));
    }
    let (Op::MatMul(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (a, b) = (inner[0], inner[1]);
    let is_t = |x: Id| matches!(g.op(x), Op::Transpose(_));
    if !is_t(a) && !is_t(b) {
        return None;
    }
    let (bt, at) = (g.transpose(b), g.transpose(a));
    Some(g.matmul(bt, at))
}

/// `(A α) β ⇒ A (α β)`: one pass over the matrix instead of two.
fn scale_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Scale(_) = op else { return None };
    let (Op::Scale(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (m, s) = (inner[0], inner[1]);
    let st = g.times(s, args[1]);
    Some(g.times(m, st))
}

/// `(α A) B ⇒ α (A B)`, `A (α B) ⇒ α (A B)`, likewise for `Aᵀ B`: scalars leave
/// products, so they meet and fold, and scale the smaller result.
fn scale_out_of_product(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::MatMul(_) | Op::TrMul(_)) {
        return None;
    }
    scale_out(g, op, args)
}

/// `(−A) B ⇒ −(A B)`, `A (−B) ⇒ −(A B)`, likewise for `Aᵀ B`.
fn neg_out_of_product(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::MatMul(_) | Op::TrMul(_)) {
        return None;
    }
    let negated = |x: Id| match parts(g, x) {
        (Op::Neg(_), inner) => Some(inner[0]),
        _ => None,
    };
    let (a, b) = match (negated(args[0]), negated(args[1])) {
        (Some(a), _) => (a, args[1]),
        (None, Some(b)) => (args[0], b),
        (None, None) => return None,
    };
    let p = g.build(op.clone(), &[a, b]);
    Some(g.neg(p))
}

/// `(α I) B ⇒ α B`, `A (α I) ⇒ α A`, `(α I)ᵀ B ⇒ α B`, for a square `I`.
fn identity_product(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::MatMul(_) | Op::TrMul(_)) {
        return None;
    }
    // Only a square `I` is the identity of the product.
    let identity = |x: Id| match parts(g, x) {
        (Op::ScaledIdentity(ScaledIdentity(shape)), inner)
            if g.dims.same(shape.rows(), shape.cols()) =>
        {
            Some(inner[0])
        }
        _ => None,
    };
    let (m, s) = match (identity(args[0]), identity(args[1])) {
        (Some(s), _) => (args[1], s),
        (None, Some(s)) if matches!(op, Op::MatMul(_)) => (args[0], s),
        (None, Some(s)) => (g.transpose(args[0]), s),
        (None, None) => return None,
    };
    Some(g.times(m, s))
}

/// `Aᵀ B ⇒ A.tr_mul(B)`: no transposed copy of `A`.
fn transpose_times_is_tr_mul(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MatMul(_) = op else { return None };
    let (Op::Transpose(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let a = inner[0];
    Some(g.tr_mul(a, args[1]))
}

/// `tr(A B) ⇒ A.tr_dot(B)` and `tr(Aᵀ B) ⇒ ⟨A, B⟩`: no product formed.
fn trace_of_product(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Trace(_) = op else { return None };
    match parts(g, args[0]) {
        (Op::MatMul(_), inner) => {
            let (a, b) = (inner[0], inner[1]);
            Some(g.build(TrDot, &[a, b]))
        }
        (Op::TrMul(_), inner) => {
            let (a, b) = (inner[0], inner[1]);
            Some(g.dot(a, b))
        }
        _ => None,
    }
}

/// `tr(A Bᵀ) ⇒ ⟨A, B⟩`, `tr(Aᵀ B) ⇒ ⟨A, B⟩`.
fn tr_dot_of_transpose(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::TrDot(_) = op else { return None };
    let transposed = |x: Id| match parts(g, x) {
        (Op::Transpose(_), inner) => Some(inner[0]),
        _ => None,
    };
    match (transposed(args[0]), transposed(args[1])) {
        (Some(a), _) => Some(g.dot(a, args[1])),
        (None, Some(b)) => Some(g.dot(args[0], b)),
        (None, None) => None,
    }
}

/// `tr(Aᵀ) ⇒ tr(A)`.
fn trace_of_transpose(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Trace(_) = op else { return None };
    let (Op::Transpose(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let a = inner[0];
    Some(g.build(Trace, &[a]))
}

/// `⟨Aᵀ, Bᵀ⟩ ⇒ ⟨A, B⟩`.
fn dot_of_transposes(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Dot(_) = op else { return None };
    let (Op::Transpose(_), a) = parts(g, args[0]) else {
        return None;
    };
    let a = a[0];
    let (Op::Transpose(_), b) = parts(g, args[1]) else {
        return None;
    };
    let b = b[0];
    Some(g.dot(a, b))
}

/// `A + (−B) ⇒ A − B`, `(−A) + B ⇒ B − A`, `A − (−B) ⇒ A + B`.
fn add_neg_is_sub(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let negated = |x: Id| match parts(g, x) {
        (Op::Neg(_), inner) => Some(inner[0]),
        _ => None,
    };
    if !matches!(op, Op::Add(_) | Op::Sub(_)) {
        return None;
    }
    match (op, negated(args[0]), negated(args[1])) {
        (Op::Add(_), _, Some(b)) => Some(g.minus(args[0], b)),
        (Op::Add(_), Some(a), None) => Some(g.minus(args[1], a)),
        (Op::Sub(_), _, Some(b)) => Some(g.plus(args[0], b)),
        _ => None,
    }
}

/// `A + 0 ⇒ A`, `0 + A ⇒ A`, `A − 0 ⇒ A` (unless the zero is complex and
/// `A` real: the sum is complex).
fn plus_zero(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let keeps_field = |x: Id, zero: Id| g.field(zero) == Field::Real || g.field(x) == g.field(zero);
    match op {
        Op::Add(_) | Op::Sub(_) if g.is_zero(args[1]) && keeps_field(args[0], args[1]) => {
            Some(args[0])
        }
        Op::Add(_) if g.is_zero(args[0]) && keeps_field(args[1], args[0]) => Some(args[1]),
        _ => None,
    }
}

/// `Aᵀ + Bᵀ ⇒ (A + B)ᵀ`, `Aᵀ − Bᵀ ⇒ (A − B)ᵀ`: one transposed copy instead
/// of two.
fn sum_of_transposes(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::Add(_) | Op::Sub(_)) {
        return None;
    }
    let transposed = |x: Id| match parts(g, x) {
        (Op::Transpose(_), inner) => Some(inner[0]),
        _ => None,
    };
    let (a, b) = (transposed(args[0])?, transposed(args[1])?);
    let sum = g.build(op.clone(), &[a, b]);
    Some(g.transpose(sum))
}

/// `A + A ⇒ 2 A`.
fn add_self_is_double(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Add(_) = op else { return None };
    if args[0] != args[1] {
        return None;
    }
    let two = g.lit(2.0);
    Some(match g.shape(args[0]) {
        Shape::Scalar => g.times(two, args[0]),
        Shape::Matrix(..) => g.times(args[0], two),
        _ => return None,
    })
}

/// `(A ± B) + A ⇒ 2A ± B`, `(B + A) + A ⇒ B + 2A`, either order: a term an adjoint reached
/// twice, apart, is added once, doubled (and `2 (½ G)` folds to `G`, as in the gradient of a
/// difference of quadratic forms).
fn repeated_term_is_double(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Add(_) = op else { return None };
    for (sum, term) in [(args[0], args[1]), (args[1], args[0])] {
        let (inner_op, inner) = parts(g, sum);
        if !matches!(inner_op, Op::Add(_) | Op::Sub(_)) {
            continue;
        }
        let (inner_op, [first, second]) = (inner_op.clone(), [inner[0], inner[1]]);
        match inner_op {
            Op::Add(_) | Op::Sub(_) if first == term => {
                let doubled = g.plus(term, term);
                return Some(g.build(inner_op, &[doubled, second]));
            }
            Op::Add(_) if second == term => {
                let doubled = g.plus(term, term);
                return Some(g.plus(first, doubled));
            }
            _ => {}
        }
    }
    None
}

/// `x⁰ ⇒ 1` (as `powi` gives, even for NaN), `x¹ ⇒ x`.
fn powi_zero_one(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    match op {
        Op::Powi(Powi(0)) => Some(g.lit(1.0)),
        Op::Powi(Powi(1)) => Some(args[0]),
        _ => None,
    }
}

/// `(s 𝟙) ∘ A ⇒ s A`, `A ∘ (s 𝟙) ⇒ s A`: no filled matrix formed.
fn hadamard_filled_is_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::ComponentMul(_) = op else { return None };
    let filled = |x: Id| match parts(g, x) {
        (Op::Filled(_), inner) => Some(inner[0]),
        _ => None,
    };
    let (m, s) = match (filled(args[0]), filled(args[1])) {
        (Some(s), _) => (args[1], s),
        (None, Some(s)) => (args[0], s),
        (None, None) => return None,
    };
    Some(g.times(m, s))
}

/// `C̄ ∘ f′.(A) ⇒ k C̄` when `f′` is a constant `k` (as for `map(|v| 3.0 * v)`).
fn map_adjoint_constant_is_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MapAdjoint(m) = op else { return None };
    g.lit_value(m.deriv)?;
    Some(g.times(args[0], m.deriv))
}

/// `ln(det A) ⇒ ln det A` from an LU factorisation: no determinant formed, so
/// no overflow, and the factorisation is shared with `A`'s inverse.
fn ln_of_det_is_logdet(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Ln(_) = op else { return None };
    // (The logarithm of a complex determinant is complex: no such shortcut.)
    if g.is_complex(args[0]) {
        return None;
    }
    match parts(g, args[0]) {
        // (A `Determinant` is up to 3×3: its logarithm stays the closed form.)
        (Op::LuDet(_), inner) => {
            let f = inner[0];
            Some(g.build(LuLogDet, &[f]))
        }
        _ => None,
    }
}

/// `adj(A)ᵀ (c / det A) ⇒ c A⁻ᵀ` where the loss inverts `A` anyway (the
/// gradient of `ln det A` beside `A⁻¹`): the cofactors are not computed a
/// second time. Equal wherever `A⁻¹` exists, and the loss computes it.
fn cofactors_over_det_is_inverse(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Scale(_) = op else { return None };
    let (Op::Cofactors(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let a = inner[0];
    let (Op::Div(_), q) = parts(g, args[1]) else {
        return None;
    };
    let (c, det) = (q[0], q[1]);
    let is_det_of_a = matches!(parts(g, det), (Op::Determinant(_), d) if d[0] == a);
    if !is_det_of_a || g.is_complex(a) {
        return None;
    }
    let inverse = g.existing(Inverse(OnSingular::Unwrap).into(), &[a])?;
    let inverse_t = g.transpose(inverse);
    Some(g.times(inverse_t, c))
}

/// The factors `[A, B]` of `id = A ⊗ B`.
fn kron_factors(g: &Graph, id: Id) -> Option<[Id; 2]> {
    match parts(g, id) {
        (Op::Kronecker(_), inner) => Some([inner[0], inner[1]]),
        _ => None,
    }
}

/// Whether `a` is known to be square.
fn is_square(g: &Graph, a: Id) -> bool {
    let s = g.shape(a);
    g.dims.same(s.rows(), s.cols())
}

/// `(A ⊗ B)(C ⊗ D) ⇒ A C ⊗ B D` and `(A ⊗ B)ᵀ(C ⊗ D) ⇒ Aᵀ C ⊗ Bᵀ D`, where
/// the factors' inner dimensions agree: no large product formed.
fn kron_mixed_product(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let transposed = match op {
        Op::MatMul(_) => false,
        Op::TrMul(_) => true,
        _ => return None,
    };
    let [a, b] = kron_factors(g, args[0])?;
    let [c, d] = kron_factors(g, args[1])?;
    let inner = |x: Id| {
        if transposed {
            g.shape(x).rows()
        } else {
            g.shape(x).cols()
        }
    };
    let (ia, ib) = (inner(a), inner(b));
    if !g.dims.same(ia, g.shape(c).rows()) || !g.dims.same(ib, g.shape(d).rows()) {
        return None;
    }
    let (ac, bd) = (g.build(op.clone(), &[a, c]), g.build(op.clone(), &[b, d]));
    Some(g.build(Kronecker, &[ac, bd]))
}

/// `(A ⊗ B)ᵀ ⇒ Aᵀ ⊗ Bᵀ`: transposes move to the (small) factors.
fn kron_transpose(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Transpose(_) = op else { return None };
    let [a, b] = kron_factors(g, args[0])?;
    let (at, bt) = (g.transpose(a), g.transpose(b));
    Some(g.build(Kronecker, &[at, bt]))
}

/// `(k A) ⊗ B ⇒ k (A ⊗ B)`, `A ⊗ (k B) ⇒ k (A ⊗ B)`.
fn kron_scale_out(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Kronecker(_) = op else { return None };
    scale_out(g, op, args)
}

/// `tr(A ⊗ B) ⇒ tr A tr B` for square `A` and `B`.
fn trace_of_kron(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Trace(_) = op else { return None };
    let [a, b] = kron_factors(g, args[0])?;
    if !is_square(g, a) || !is_square(g, b) {
        return None;
    }
    let (ta, tb) = (g.build(Trace, &[a]), g.build(Trace, &[b]));
    Some(g.times(ta, tb))
}

/// `det(A ⊗ B) ⇒ det(A)^q det(B)^p` and `ln det(A ⊗ B) ⇒ q ln det A + p ln det B`
/// for `A` p×p and `B` q×q of fixed sizes.
fn det_of_kron(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::Determinant(_) | Op::LuDet(_) | Op::LuLogDet(_)) {
        return None;
    }
    let matrix = match (op, parts(g, args[0])) {
        (Op::Determinant(_), _) => args[0],
        (Op::LuDet(_) | Op::LuLogDet(_), (Op::LuOf(_), inner)) => inner[0],
        _ => return None,
    };
    let [a, b] = kron_factors(g, matrix)?;
    let size = |x: Id| match g.shape(x).rows() {
        crate::shape::Dim::Fixed(n) if is_square(g, x) => i32::try_from(n).ok(),
        _ => None,
    };
    let (p, q) = (size(a)?, size(b)?);
    if let Op::LuLogDet(_) = op {
        let (la, lb) = (g.logdet(a).ok()?, g.logdet(b).ok()?);
        let (q, p) = (g.lit(f64::from(q)), g.lit(f64::from(p)));
        let (x, y) = (g.times(q, la), g.times(p, lb));
        return Some(g.plus(x, y));
    }
    let (da, db) = (g.determinant(a).ok()?, g.determinant(b).ok()?);
    let (x, y) = (g.build(Powi(q), &[da]), g.build(Powi(p), &[db]));
    Some(g.times(x, y))
}

/// `(A ⊗ B)⁻¹ ⇒ A⁻¹ ⊗ B⁻¹` for square `A` and `B`.
fn inverse_of_kron(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::Inverse(_) | Op::LuInverse(_)) {
        return None;
    }
    let (on_singular, matrix) = match (op, parts(g, args[0])) {
        (Op::Inverse(Inverse(on)), _) => (on.clone(), args[0]),
        (Op::LuInverse(LuInverse(on)), (Op::LuOf(_), inner)) => (on.clone(), inner[0]),
        _ => return None,
    };
    let [a, b] = kron_factors(g, matrix)?;
    if !is_square(g, a) || !is_square(g, b) {
        return None;
    }
    let ia = g.inverse(a, on_singular.clone()).ok()?;
    let ib = g.inverse(b, on_singular).ok()?;
    Some(g.build(Kronecker, &[ia, ib]))
}

/// `(A ⊗ B) ∘ (C ⊗ D) ⇒ (A ∘ C) ⊗ (B ∘ D)` where `A`, `C` and `B`, `D` have
/// the same shapes.
fn hadamard_of_krons(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::ComponentMul(_) = op else { return None };
    let [a, b] = kron_factors(g, args[0])?;
    let [c, d] = kron_factors(g, args[1])?;
    let same = |x: Id, y: Id| {
        let (sx, sy) = (g.shape(x), g.shape(y));
        g.dims.same(sx.rows(), sy.rows()) && g.dims.same(sx.cols(), sy.cols())
    };
    if !same(a, c) || !same(b, d) {
        return None;
    }
    let (ac, bd) = (g.component_mul(a, c), g.component_mul(b, d));
    Some(g.build(Kronecker, &[ac, bd]))
}

/// `(k A) ∘ B ⇒ k (A ∘ B)`, `A ∘ (k B) ⇒ k (A ∘ B)`.
fn hadamard_scale_out(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::ComponentMul(_) = op else { return None };
    scale_out(g, op, args)
}

/// `tr(X Y B) = tr(X (Y B))`: of `tr((X Y) B)` and `tr(X (Y B))`, form the
/// cheaper product, when the sizes are known.
fn trace_cyclic_cheapest(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::TrDot(_) = op else { return None };
    let size = |d| g.dims.value(d);
    // Multiplications: forming `x y`, then the inner product with it.
    let cost = |x: Id, y: Id| -> Option<usize> {
        let (sx, sy) = (g.shape(x), g.shape(y));
        let (r, c) = (size(sx.rows())?, size(sy.cols())?);
        Some(r * size(sx.cols())? * c + r * c)
    };
    if let (Op::MatMul(_), inner) = parts(g, args[0]) {
        let (x, y, b) = (inner[0], inner[1], args[1]);
        if cost(y, b)? < cost(x, y)? {
            let yb = g.matmul(y, b);
            return Some(g.build(TrDot, &[x, yb]));
        }
    }
    if let (Op::MatMul(_), inner) = parts(g, args[1]) {
        let (a, y, z) = (args[0], inner[0], inner[1]);
        if cost(a, y)? < cost(y, z)? {
            let ay = g.matmul(a, y);
            return Some(g.build(TrDot, &[ay, z]));
        }
    }
    None
}

/// `(s 𝟙) ∘ f′.(A) ⇒ s f′.(A)`: no filled matrix formed (the adjoint of a `map`
/// under `sum`).
fn map_adjoint_of_filled(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MapAdjoint(m) = op else { return None };
    let (Op::Filled(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let s = inner[0];
    let d = g.build(
        MapDerivative {
            body: m.body,
            deriv: m.deriv,
        },
        &[&args[1..3], &args[3..]].concat(),
    );
    Some(g.times(d, s))
}

/// `±1` if `deriv` is the map's `body` itself, or its negation: `f′ = ±f`,
/// as `∂ₘ e^{v−m} = −e^{v−m}` or `exp′ = exp`.
fn sign_of_itself(g: &Graph, body: Id, deriv: Id) -> Option<bool> {
    match parts(g, deriv) {
        _ if deriv == body => Some(false),
        (Op::Neg(_), inner) if inner[0] == body => Some(true),
        _ => None,
    }
}

/// `f′.(A) ⇒ ±C` for `C = f.(A)` when `f′ = ±f`: the map's value, not a
/// second pass over `A`.
fn map_derivative_of_itself(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MapDerivative(m) = op else {
        return None;
    };
    let c = args[1];
    Some(match sign_of_itself(g, m.body, m.deriv)? {
        false => c,
        true => g.neg(c),
    })
}

/// `C̄ ∘ f′.(A) ⇒ ±C̄ ∘ C` when `f′ = ±f`.
fn map_adjoint_of_itself(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MapAdjoint(m) = op else { return None };
    let negate = sign_of_itself(g, m.body, m.deriv)?;
    let product = g.component_mul(args[0], args[2]);
    Some(if negate { g.neg(product) } else { product })
}

/// `C̄ ∘ f′.(A) ⇒ κ C̄` when `f′` is a capture `κ` (as for `map(|v| v * beta)`).
fn map_adjoint_captured_is_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MapAdjoint(m) = op else { return None };
    let Op::Captured(c) = g.op(m.deriv) else {
        return None;
    };
    let kappa = args[3 + c.0];
    Some(g.times(args[0], kappa))
}

/// `f.(A; κ)[i] ⇒ f(A[i], κ)`: one entry of a map is its closure at that
/// entry (the entry of `ln softmax` a loss reads, without the vector).
fn entry_of_map(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Entry(_) = op else { return None };
    let (Op::Map(m), inner) = parts(g, args[0]) else {
        return None;
    };
    let (body, x, captures) = (m.body, inner[0], inner[1..].to_vec());
    let entry = g.build(Entry, &[&[x], &args[1..]].concat());
    Some(closure_at(g, body, entry, &captures))
}

/// `A.row(i)[j] ⇒ A[(i, j)]`, and `A.row(i)[(0, j)]`: the entry itself, not
/// a view of its row (whose adjoint would place a row into zeros).
fn entry_of_row(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Entry(_) = op else { return None };
    let (
        Op::View(View {
            kind: ViewKind::Row,
            ..
        }),
        inner,
    ) = parts(g, args[0])
    else {
        return None;
    };
    let j = match args[1..] {
        [j] => j,
        [zero, j] if matches!(g.op(zero), Op::IntLit(IntLit(0))) => j,
        _ => return None,
    };
    Some(g.build(Entry, &[inner[0], inner[1], j]))
}

/// `sum(−A) ⇒ −sum(A)`: a scalar negated, not a matrix.
fn sum_of_neg(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Sum(_) = op else { return None };
    let (Op::Neg(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let a = inner[0];
    let sum = g.build(Sum, &[a]);
    Some(g.neg(sum))
}

/// `sum(α A) ⇒ α sum(A)`: a scalar scaled, not a matrix.
fn sum_of_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Sum(_) = op else { return None };
    let (Op::Scale(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (a, alpha) = (inner[0], inner[1]);
    let sum = g.build(Sum, &[a]);
    Some(g.times(alpha, sum))
}

/// `c̄ s e_k ⇒ 0` and `s dA[k] ⇒ 0` when the weight is zero: a maximum whose
/// derivative cancels (the shift of a stable softmax) needs no pass over `A`.
fn extremum_of_zero_weight(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::AtExtremum(at) = op else { return None };
    if !g.is_zero(args[1]) {
        return None;
    }
    let shape = if at.adjoint {
        g.shape(args[0])
    } else {
        Shape::Scalar
    };
    Some(g.zero(shape))
}

/// `tr((xᵀ a) y) ⇒ ⟨x, a y⟩`: the same cost, and `a y` is the product the
/// gradient needs (for `tr(XᵀAX)`, two products instead of three).
fn tr_dot_of_tr_mul(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::TrDot(_) = op else { return None };
    let (Op::TrMul(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (x, a) = (inner[0], inner[1]);
    let ay = g.matmul(a, args[1]);
    Some(g.dot(x, ay))
}

/// Whether `s` is `B + Bᵀ` (or `Bᵀ + B`): symmetric whatever `B` is.
fn is_symmetric_sum(g: &Graph, s: Id) -> bool {
    let (Op::Add(_), args) = parts(g, s) else {
        return false;
    };
    let transpose_of =
        |t: Id, b: Id| matches!(parts(g, t), (Op::Transpose(_), inner) if inner[0] == b);
    transpose_of(args[1], args[0]) || transpose_of(args[0], args[1])
}

/// `⟨X, A X⟩ ⇒ ½⟨X, (A + Aᵀ) X⟩` for a real `X` of more than one column:
/// the gradient in `X`, `(A + Aᵀ) X`, is then the very product the value
/// reads, one product for both instead of two. (For a vector `x` two `gemv`s
/// cost less than forming `A + Aᵀ`.)
fn quadratic_form_symmetrised(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Dot(_) = op else { return None };
    let form = |x: Id, ax: Id| match parts(g, ax) {
        (Op::MatMul(_), inner) if inner[1] == x => Some((x, inner[0])),
        _ => None,
    };
    let (x, a) = form(args[0], args[1]).or_else(|| form(args[1], args[0]))?;
    let Shape::Matrix(_, cols) = g.shape(x) else {
        return None;
    };
    if cols == crate::shape::Dim::Fixed(1) || g.is_complex(x) || is_symmetric_sum(g, a) {
        return None;
    }
    let at = g.transpose(a);
    let s = g.plus(a, at);
    let sx = g.matmul(s, x);
    let form = g.dot(x, sx);
    let half = g.lit(0.5);
    Some(g.times(half, form))
}

/// `(B + Bᵀ)ᵀ ⇒ B + Bᵀ`.
fn transpose_of_symmetric_sum(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Transpose(_) = op else { return None };
    is_symmetric_sum(g, args[0]).then_some(args[0])
}

/// `(B + Bᵀ)ᵀ X ⇒ (B + Bᵀ) X`: the product the value already has.
fn tr_mul_of_symmetric_sum(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::TrMul(_) = op else { return None };
    is_symmetric_sum(g, args[0]).then(|| g.matmul(args[0], args[1]))
}

/// `op(α A, B) ⇒ α op(A, B)` and `op(A, α B) ⇒ α op(A, B)` for an operation
/// linear in each argument: the shared step of the scale-out rules.
fn scale_out(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let scaled = |x: Id| match parts(g, x) {
        (Op::Scale(_), inner) => Some((inner[0], inner[1])),
        _ => None,
    };
    let (a, b, s) = match (scaled(args[0]), scaled(args[1])) {
        (Some((a, s)), _) => (a, args[1], s),
        (None, Some((b, s))) => (args[0], b, s),
        (None, None) => return None,
    };
    let inner = g.build(op.clone(), &[a, b]);
    Some(g.times(inner, s))
}

/// `conj(conj(z)) ⇒ z`.
fn conj_conj(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Conj(_) = op else { return None };
    match parts(g, args[0]) {
        (Op::Conj(_), inner) => Some(inner[0]),
        _ => None,
    }
}

/// `(Aᴴ)ᴴ ⇒ A`.
fn adjoint_adjoint(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Adjoint(_) = op else { return None };
    match parts(g, args[0]) {
        (Op::Adjoint(_), inner) => Some(inner[0]),
        _ => None,
    }
}

/// `conj(Aᵀ) ⇒ Aᴴ`, `conj(A)ᵀ ⇒ Aᴴ`, `conj(Aᴴ) ⇒ Aᵀ`, `conj(A)ᴴ ⇒ Aᵀ`,
/// `(Aᵀ)ᴴ ⇒ conj(A)`, `(Aᴴ)ᵀ ⇒ conj(A)`: one pass over `A` instead of two.
fn conjugate_transposes(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::Conj(_) | Op::Transpose(_) | Op::Adjoint(_)) {
        return None;
    }
    let (inner_op, inner) = parts(g, args[0]);
    let a = *inner.first()?;
    match (op, inner_op) {
        (Op::Conj(_), Op::Transpose(_)) | (Op::Transpose(_), Op::Conj(_)) => {
            Some(g.build(Adjoint, &[a]))
        }
        (Op::Conj(_), Op::Adjoint(_)) | (Op::Adjoint(_), Op::Conj(_)) => Some(g.transpose(a)),
        (Op::Adjoint(_), Op::Transpose(_)) | (Op::Transpose(_), Op::Adjoint(_)) => {
            Some(g.build(Conj, &[a]))
        }
        _ => None,
    }
}

/// `(α A)ᴴ ⇒ conj(α) Aᴴ`: scalars move outward, as for `ᵀ`.
fn adjoint_scale(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Adjoint(_) = op else { return None };
    let (Op::Scale(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (m, s) = (inner[0], inner[1]);
    let (mh, s) = (g.adjoint(m), g.conj(s));
    Some(g.times(mh, s))
}

/// `(α I)ᴴ ⇒ conj(α) I`.
fn adjoint_identity(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Adjoint(_) = op else { return None };
    let (Op::ScaledIdentity(ScaledIdentity(shape)), inner) = parts(g, args[0]) else {
        return None;
    };
    let (shape, s) = (shape.transposed(), inner[0]);
    let s = g.conj(s);
    Some(g.build(ScaledIdentity(shape), &[s]))
}

/// `Aᴴ B ⇒ A.ad_mul(B)`: no conjugate transpose of `A` formed.
fn adjoint_times_is_ad_mul(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::MatMul(_) = op else { return None };
    let (Op::Adjoint(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let a = inner[0];
    Some(g.build(AdMul, &[a, args[1]]))
}

/// `tr(Aᴴ B) ⇒ ⟨A, B⟩` (`dotc`): no product formed.
fn trace_of_ad_mul(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let Op::Trace(_) = op else { return None };
    let (Op::AdMul(_), inner) = parts(g, args[0]) else {
        return None;
    };
    let (a, b) = (inner[0], inner[1]);
    Some(g.build(Dotc, &[a, b]))
}

/// `Re(x + iy) ⇒ x`, `Im(x + iy) ⇒ y`, `Re x ⇒ x` for `x` taken as complex,
/// `Re conj(z) ⇒ Re z`, `Im conj(z) ⇒ −Im z`.
fn parts_of_parts(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    if !matches!(op, Op::Re(_) | Op::Im(_)) {
        return None;
    }
    let (inner_op, inner) = parts(g, args[0]);
    let inner = inner.to_vec();
    match (op, inner_op) {
        (Op::Re(_), Op::FromParts(_)) => Some(inner[0]),
        (Op::Im(_), Op::FromParts(_)) => Some(inner[1]),
        (Op::Re(_), Op::ToComplex(_)) => Some(inner[0]),
        (Op::Re(_), Op::Conj(_)) => Some(g.re(inner[0])),
        (Op::Im(_), Op::Conj(_)) => {
            let im = g.im(inner[0]);
            Some(g.neg(im))
        }
        _ => None,
    }
}

/// `z x ⇒ z x` with `x` real rather than taken as complex (`Complex::from(x)`),
/// likewise in `z / x`, `z ± x`, `Z.scale(x)`, `Z.unscale(x)`, where the
/// other operand is complex (nalgebra mixes them there), and `conj(x) ⇒ x`:
/// literals meet literals and fold (`Z 1 ⇒ Z`).
fn real_operand_of_complex(g: &mut Graph, op: &Op, args: &[Id]) -> Option<Id> {
    let real = |g: &Graph, x: Id| match parts(g, x) {
        (Op::ToComplex(_), inner) if g.shape(x).is_scalar() => Some(inner[0]),
        _ => None,
    };
    if let Op::Conj(_) = op {
        real(g, args[0])?;
        return Some(args[0]);
    }
    let scalars = matches!(op, Op::Mul(_) | Op::Div(_) | Op::Add(_) | Op::Sub(_))
        && g.shape(args[0]).is_scalar();
    let scalings = matches!(op, Op::Scale(_) | Op::DivScalar(_));
    if !scalars && !scalings {
        return None;
    }
    let (a, b) = (args[0], args[1]);
    let args = match (real(g, a), real(g, b)) {
        (_, Some(x)) if g.is_complex(a) => [a, x],
        (Some(x), _) if scalars && g.is_complex(b) => [x, b],
        _ => return None,
    };
    Some(g.build(op.clone(), &args))
}
