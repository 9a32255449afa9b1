//! A derivative that is linear in a direction `D` written in Kronecker form,
//! for the generated docs: `vec(P D Q) = (Qᵀ ⊗ P) vec(D)` and
//! `vec(P Dᵀ Q) = (Qᵀ ⊗ P) K vec(D)` — so `tr(XᵀAX)` shows `H = I ⊗ (A + Aᵀ)`
//! and `ln det X` shows `H = −(X⁻¹ ⊗ X⁻ᵀ) K`. Expressions of other forms
//! (Hadamard products, `map`) have none and are shown by their action.

use crate::formula::Writer;
use crate::ir::ops::Op;
use crate::ir::{Graph, Id};
use crate::notation::{self, Formula};

/// A factor of a product, possibly transposed.
#[derive(Clone, Copy, PartialEq)]
struct Factor {
    node: Id,
    transposed: bool,
}

/// One term `± s · P D Q` (or `P Dᵀ Q`), `P` and `Q` products of factors.
#[derive(Clone)]
struct Term {
    negative: bool,
    scalars: Vec<Id>,
    left: Vec<Factor>,
    right: Vec<Factor>,
    transposed: bool,
}

impl Term {
    /// `(P D Q)ᵀ = Qᵀ Dᵀ Pᵀ`.
    fn transpose(mut self) -> Term {
        let flip = |fs: Vec<Factor>| -> Vec<Factor> {
            fs.into_iter()
                .rev()
                .map(|f| Factor {
                    node: f.node,
                    transposed: !f.transposed,
                })
                .collect()
        };
        let (left, right) = (flip(self.right), flip(self.left));
        self.left = left;
        self.right = right;
        self.transposed = !self.transposed;
        self
    }
}

/// `node` as a sum of terms linear in `dir`, if it has that form.
fn terms(g: &Graph, node: Id, dir: Id, depends: &[bool]) -> Option<Vec<Term>> {
    let dep = |x: Id| depends.get(x.index()).copied().unwrap_or(false);
    if node == dir {
        return Some(vec![Term {
            negative: false,
            scalars: Vec::new(),
            left: Vec::new(),
            right: Vec::new(),
            transposed: false,
        }]);
    }
    let n = g.node(node);
    let args = &n.args;
    let factor = |x: Id, transposed| Factor {
        node: x,
        transposed,
    };
    match &n.op {
        Op::Add(_) => Some(
            [
                terms(g, args[0], dir, depends)?,
                terms(g, args[1], dir, depends)?,
            ]
            .concat(),
        ),
        Op::Sub(_) => {
            let mut right = terms(g, args[1], dir, depends)?;
            right.iter_mut().for_each(|t| t.negative = !t.negative);
            Some([terms(g, args[0], dir, depends)?, right].concat())
        }
        Op::Neg(_) => {
            let mut ts = terms(g, args[0], dir, depends)?;
            ts.iter_mut().for_each(|t| t.negative = !t.negative);
            Some(ts)
        }
        Op::Transpose(_) => Some(
            terms(g, args[0], dir, depends)?
                .into_iter()
                .map(Term::transpose)
                .collect(),
        ),
        Op::Scale(_) if !dep(args[1]) => {
            let mut ts = terms(g, args[0], dir, depends)?;
            ts.iter_mut().for_each(|t| t.scalars.push(args[1]));
            Some(ts)
        }
        // A B and Aᵀ B with the direction on one side only.
        Op::MatMul(_) | Op::TrMul(_) => {
            let transposed_left = matches!(n.op, Op::TrMul(_));
            match (dep(args[0]), dep(args[1])) {
                (true, false) => {
                    let ts = terms(g, args[0], dir, depends)?;
                    let ts: Vec<Term> = if transposed_left {
                        ts.into_iter().map(Term::transpose).collect()
                    } else {
                        ts
                    };
                    Some(
                        ts.into_iter()
                            .map(|mut t| {
                                t.right.push(factor(args[1], false));
                                t
                            })
                            .collect(),
                    )
                }
                (false, true) => Some(
                    terms(g, args[1], dir, depends)?
                        .into_iter()
                        .map(|mut t| {
                            t.left.insert(0, factor(args[0], transposed_left));
                            t
                        })
                        .collect(),
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `J` (or `H`) in Kronecker form, `Σ ±(Qᵀ ⊗ P) [K]`, when `node` is linear in
/// `dir` of that form.
pub fn kronecker_form(g: &Graph, w: &mut Writer, node: Id, dir: Id) -> Option<String> {
    let depends = g.depends_on(node.max(dir), |id, _| id == dir);
    let ts = terms(g, node, dir, &depends)?;
    let product = |w: &mut Writer, fs: &[Factor]| -> Formula {
        if fs.is_empty() {
            return Formula::atom("I");
        }
        fs.iter()
            .map(|f| {
                let x = w.write(f.node);
                if f.transposed {
                    notation::postfix(&x, "ᵀ")
                } else {
                    x
                }
            })
            .reduce(|a, b| notation::product(&a, &b))
            .unwrap_or_else(|| Formula::atom("I"))
    };
    let mut text = String::new();
    for (k, t) in ts.iter().enumerate() {
        // (P D Q) ⇒ Qᵀ ⊗ P.
        let q_t: Vec<Factor> = t
            .right
            .iter()
            .rev()
            .map(|f| Factor {
                node: f.node,
                transposed: !f.transposed,
            })
            .collect();
        let kron = notation::mark(&product(w, &q_t), " ⊗ ", &product(w, &t.left));
        let scalars: Vec<Formula> = t.scalars.iter().map(|&s| w.write(s)).collect();
        let mut term = scalars
            .into_iter()
            .fold(kron, |acc, s| notation::product(&s, &acc));
        if t.transposed {
            term = notation::product(&term, &Formula::atom("K"));
        }
        let sign = match (k, t.negative) {
            (0, false) => "",
            (0, true) => "−",
            (_, false) => " + ",
            (_, true) => " − ",
        };
        text.push_str(sign);
        text.push_str(&term.text);
    }
    Some(text)
}
