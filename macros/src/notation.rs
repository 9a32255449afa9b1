//! How mathematics reads in the generated docs: a formula's text and how
//! tightly it binds, and the ways operations combine formulas. The rules of
//! the operations write their part with these; `formula` walks the graph.

/// Binding strength, loosest first.
pub const SUM: u8 = 1;
pub const QUOTIENT: u8 = 2;
pub const PRODUCT: u8 = 3;
pub const PREFIX: u8 = 4;
pub const POSTFIX: u8 = 5;
pub const ATOM: u8 = 6;

#[derive(Clone, Debug)]
pub struct Formula {
    pub text: String,
    pub prec: u8,
}

impl Formula {
    pub fn atom(text: impl Into<String>) -> Formula {
        Formula {
            text: text.into(),
            prec: ATOM,
        }
    }

    /// The text, parenthesised if it binds looser than `prec`.
    pub fn at(&self, prec: u8) -> String {
        if self.prec < prec {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// `a op b`, left-associative.
pub fn infix(a: &Formula, op: &str, b: &Formula, prec: u8) -> Formula {
    Formula {
        text: format!("{}{op}{}", a.at(prec), b.at(prec + 1)),
        prec,
    }
}

/// `a ⊗ b`, `a ∘ b`, `a ⊘ b`, `a × b`: compound operands are parenthesised, and
/// so is the result as a factor, so `s (a c ⊗ b)` never reads ambiguously.
pub fn mark(a: &Formula, op: &str, b: &Formula) -> Formula {
    Formula {
        text: format!("{}{op}{}", a.at(POSTFIX), b.at(POSTFIX)),
        prec: QUOTIENT,
    }
}

/// `a/b`: parenthesised as a factor, so `(1/a) b` never reads as `1/(a b)`.
pub fn quotient(a: &Formula, b: &Formula) -> Formula {
    Formula {
        text: format!("{}/{}", a.at(PRODUCT), b.at(PRODUCT + 1)),
        prec: QUOTIENT,
    }
}

/// A right-hand factor: a negation is parenthesised, so `a (−b)` never reads
/// as `a − b`.
fn right_factor(b: &Formula) -> String {
    if b.prec == PREFIX {
        format!("({})", b.text)
    } else {
        b.at(PRODUCT)
    }
}

/// `a b`: juxtaposition, associative, so a product on the right needs no parentheses.
pub fn product(a: &Formula, b: &Formula) -> Formula {
    Formula {
        text: format!("{} {}", a.at(PRODUCT), right_factor(b)),
        prec: PRODUCT,
    }
}

pub fn prefix(op: &str, a: &Formula) -> Formula {
    Formula {
        text: format!("{op}{}", a.at(PREFIX)),
        prec: PREFIX,
    }
}

pub fn postfix(a: &Formula, op: &str) -> Formula {
    Formula {
        text: format!("{}{op}", a.at(POSTFIX)),
        prec: POSTFIX,
    }
}

pub fn call(name: &str, args: &[Formula]) -> Formula {
    let inner: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
    Formula::atom(format!("{name}({})", inner.join(", ")))
}

/// A literal as a mathematician writes it: `2`, `0.5`.
pub fn number(v: f64) -> Formula {
    use std::f64::consts::{E, LN_10, LN_2, PI};
    // The constants the derivatives of `log2`, `exp2`, … bring in, and the
    // ones users write most, by name.
    let named = [(PI, "π"), (E, "e"), (LN_2, "ln(2)"), (LN_10, "ln(10)")];
    if let Some((_, name)) = named.iter().find(|(c, _)| *c == v.abs()) {
        return if v < 0.0 {
            Formula {
                text: format!("−{name}"),
                prec: PREFIX,
            }
        } else {
            Formula::atom(*name)
        };
    }
    let text = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    };
    if v < 0.0 {
        Formula {
            text: format!("−{}", &text[1..]),
            prec: PREFIX,
        }
    } else {
        Formula::atom(text)
    }
}

/// `12` → `₁₂`.
pub fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32('₀' as u32 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}
