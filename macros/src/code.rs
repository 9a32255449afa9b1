//! How values are written in the generated code, the vocabulary the
//! operations' rules write with and the emitter fills in: a value as an
//! operand or a receiver, the closures the emitter writes for a rule, and the
//! alias of the runtime's private helpers.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::id::Id;
use crate::shape::Shape;

/// How a computed value is written where it is used.
#[derive(Clone)]
pub enum Value {
    /// A scalar: always a single token tree, usable as operand and receiver.
    Scalar(TokenStream),
    /// A matrix: `operand` is a reference (`&t`), `receiver` a place (`t`).
    Matrix {
        operand: TokenStream,
        receiver: TokenStream,
    },
    /// A matrix local of this shape moved into its only reader, which may
    /// reuse its buffer.
    Moved(TokenStream, Shape),
}

impl Value {
    /// The form for an operator or an argument: `&m` for a matrix, `x` for a scalar.
    pub fn operand(&self) -> &TokenStream {
        match self {
            Value::Scalar(t) => t,
            Value::Matrix { operand, .. } => operand,
            Value::Moved(t, _) => t,
        }
    }

    /// [`Value::operand`] standing at `at` in an arithmetic expression,
    /// without the parentheses an inline value carries where the expression
    /// reads as the same tree without them (`a * b + c`, `a + b - c`).
    pub fn operand_at(&self, at: Operand) -> TokenStream {
        let operand = self.operand();
        let mut trees = operand.clone().into_iter();
        let (Some(proc_macro2::TokenTree::Group(group)), None) = (trees.next(), trees.next())
        else {
            return operand.clone();
        };
        if group.delimiter() != proc_macro2::Delimiter::Parenthesis {
            return operand.clone();
        }
        let kind = precedence(group.stream());
        let bare = match at {
            Operand::SumLeft => kind != Precedence::Other,
            Operand::SumRight => kind == Precedence::Product,
            Operand::ProductLeft => matches!(kind, Precedence::Product | Precedence::Prefix),
        };
        if bare {
            group.stream()
        } else {
            operand.clone()
        }
    }

    /// The form for a method receiver.
    pub fn receiver(&self) -> &TokenStream {
        match self {
            Value::Scalar(t) => t,
            Value::Matrix { receiver, .. } | Value::Moved(receiver, _) => receiver,
        }
    }

    /// The same value taken by value: a matrix local of shape `shape` moved
    /// into its only reader.
    pub fn moved(self, shape: Shape) -> Value {
        match self {
            Value::Matrix { receiver, .. } => Value::Moved(receiver, shape),
            other => other,
        }
    }

    pub fn local(name: &Ident, shape: Shape) -> Value {
        match shape {
            Shape::Matrix(..) => Value::Matrix {
                operand: quote!(&#name),
                receiver: quote!(#name),
            },
            _ => Value::Scalar(quote!(#name)),
        }
    }

    /// A local holding a reference to a matrix (or a scalar).
    pub fn borrowed(name: &Ident, shape: Shape) -> Value {
        match shape {
            Shape::Matrix(..) => Value::Matrix {
                operand: quote!(#name),
                receiver: quote!(#name),
            },
            _ => Value::Scalar(quote!(#name)),
        }
    }
}

/// The parameters of a closure the emitter writes.
pub enum ClosureParam {
    /// The incoming adjoint entry.
    Adjoint,
    /// The closure's own parameter `v`.
    Lambda,
    /// An entry of this node's value.
    Node(Id),
    /// Parameter number `k` of a map over several matrices, the closure
    /// parameter leaf it binds.
    Entry(Id, usize),
}

/// Where an operand stands in `x + y`, `x − y`, `x * y` or `x / y`.
#[derive(Clone, Copy)]
pub enum Operand {
    /// `x` of `x ± y`: a sum, a product or a negation needs no parentheses.
    SumLeft,
    /// `y` of `x ± y`: a product needs none.
    SumRight,
    /// `x` of `x * y`, `x / y`: a product or a negation needs none.
    ProductLeft,
}

/// The loosest operator at the top level of an expression.
#[derive(PartialEq, Eq)]
enum Precedence {
    /// A binary `+` or `-`, and nothing looser.
    Sum,
    /// A binary `*` or `/`, and nothing looser.
    Product,
    /// A leading `-` on a path, a literal or a chain of calls.
    Prefix,
    /// Anything else (comparisons, casts, ranges, closures): kept as it is.
    Other,
}

fn precedence(expr: TokenStream) -> Precedence {
    use proc_macro2::TokenTree;
    let trees: Vec<TokenTree> = expr.into_iter().collect();
    let (mut sum, mut product) = (false, false);
    for (i, tree) in trees.iter().enumerate() {
        let after_operand = i > 0 && !matches!(&trees[i - 1], TokenTree::Punct(_));
        match tree {
            TokenTree::Punct(p) => match p.as_char() {
                '+' | '-' if after_operand => sum = true,
                '-' if i == 0 => {}
                '*' | '/' if after_operand => product = true,
                '.' if !matches!(trees.get(i + 1), Some(TokenTree::Punct(q)) if q.as_char() == '.') =>
                    {}
                ':' => {}
                _ => return Precedence::Other,
            },
            TokenTree::Ident(id) if id == "as" => return Precedence::Other,
            _ => {}
        }
    }
    match (sum, product) {
        (true, _) => Precedence::Sum,
        (false, true) => Precedence::Product,
        (false, false) => Precedence::Prefix,
    }
}

/// The name generated bodies give `::matgrad::__private` (see
/// `emit::with_private_alias`): the helpers' paths are the bulk of the code else.
pub fn private_alias() -> Ident {
    Ident::new("__mg_p", Span::mixed_site())
}
