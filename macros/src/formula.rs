//! IR → readable mathematics for the generated doc comment, e.g.
//! `∇w = 2 Xᵀ r, where r = X w − y`.

use std::collections::{BTreeMap, HashMap};

use crate::ir::{Graph, Id};
use crate::ops::Op;

/// Binding strength, loosest first.
pub const SUM: u8 = 1;
pub const PRODUCT: u8 = 2;
pub const PREFIX: u8 = 3;
pub const POSTFIX: u8 = 4;
pub const ATOM: u8 = 5;

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

pub fn product(a: &Formula, b: &Formula) -> Formula {
    infix(a, " ", b, PRODUCT)
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

/// Writes `roots` as formulas. Nodes the user named with `let` appear by name,
/// and their definitions are listed after `where`.
pub struct Writer<'a> {
    graph: &'a Graph,
    memo: HashMap<Id, Formula>,
    /// Named nodes the formulas used, by id (so definitions list in order).
    used: BTreeMap<Id, String>,
}

impl<'a> Writer<'a> {
    pub fn new(graph: &'a Graph) -> Self {
        Writer {
            graph,
            memo: HashMap::new(),
            used: BTreeMap::new(),
        }
    }

    pub fn write(&mut self, id: Id) -> Formula {
        if let Some(name) = self.named(id) {
            self.used.insert(id, name.clone());
            return Formula::atom(name);
        }
        self.expand(id)
    }

    fn named(&self, id: Id) -> Option<String> {
        match self.graph.op(id) {
            Op::Param(_) | Op::Lit(_) | Op::LambdaParam(_) => None,
            _ => self.graph.names.get(&id).cloned(),
        }
    }

    fn expand(&mut self, id: Id) -> Formula {
        if let Some(f) = self.memo.get(&id) {
            return f.clone();
        }
        let node = self.graph.node(id).clone();
        let args: Vec<Formula> = node.args.iter().map(|&a| self.write(a)).collect();
        let f = match &node.op {
            Op::Param(_) => Formula::atom(self.graph.names[&id].clone()),
            Op::Map(m) => {
                let body = self.write(m.body);
                call(
                    "map",
                    &[args[0].clone(), Formula::atom(format!("v ↦ {}", body.text))],
                )
            }
            Op::MapAdjoint(m) => {
                let d = self.write(m.deriv);
                infix(
                    &args[0],
                    " ∘ ",
                    &call(
                        "map",
                        &[args[1].clone(), Formula::atom(format!("v ↦ {}", d.text))],
                    ),
                    PRODUCT,
                )
            }
            op => op.rule().formula(&args),
        };
        self.memo.insert(id, f.clone());
        f
    }

    /// `where r = X w − y, …` for the named nodes used so far (and those their
    /// definitions use), or an empty string.
    pub fn definitions(&mut self) -> String {
        let mut done: BTreeMap<Id, String> = BTreeMap::new();
        while let Some((&id, _)) = self.used.iter().find(|(id, _)| !done.contains_key(id)) {
            let text = self.expand(id).text;
            done.insert(id, format!("{} = {text}", self.used[&id]));
        }
        if done.is_empty() {
            String::new()
        } else {
            let defs: Vec<String> = done.into_values().collect();
            format!(", where {}", defs.join(", "))
        }
    }
}
