//! IR → readable mathematics for the generated doc comment, e.g.
//! `∇w = 2 Xᵀ r, where r = X w − y`.

use std::collections::{BTreeMap, HashMap};

use crate::ir::ops::Op;
use crate::ir::{Graph, Id};
use crate::notation::{call, infix, subscript, Formula, PRODUCT};

/// Writes `roots` as formulas. Nodes the user named with `let` appear by name,
/// and their definitions are listed after `where`.
pub struct Writer<'a> {
    graph: &'a Graph,
    /// The last node of the user's function: named nodes up to it are the user's `let`s.
    forward_end: Id,
    memo: HashMap<Id, Formula>,
    /// Named nodes the formulas used, by id (so definitions list in order).
    used: BTreeMap<Id, String>,
    /// Unnamed subexpressions that occur more than once, with the names they
    /// get in the formula (`u₁`, `u₂`, …).
    shared: HashMap<Id, String>,
    /// While writing a `map` closure: the formulas of the values it captures.
    captured: Vec<Formula>,
}

impl<'a> Writer<'a> {
    /// A writer for the formulas of `roots`.
    pub fn new(graph: &'a Graph, forward_end: Id, roots: &[Id]) -> Self {
        let mut w = Writer {
            graph,
            forward_end,
            memo: HashMap::new(),
            used: BTreeMap::new(),
            shared: HashMap::new(),
            captured: Vec::new(),
        };
        w.name_shared(roots);
        w
    }

    /// Gives a name to each compound subexpression used more than once.
    fn name_shared(&mut self, roots: &[Id]) {
        let mut uses: HashMap<Id, usize> = HashMap::new();
        let mut stack = roots.to_vec();
        while let Some(id) = stack.pop() {
            let count = uses.entry(id).or_default();
            *count += 1;
            if *count == 1 {
                stack.extend(self.graph.node(id).args.iter().copied());
            }
        }
        let mut shared: Vec<Id> = uses
            .into_iter()
            .filter(|&(id, n)| n > 1 && self.named(id).is_none() && self.is_compound(id))
            .map(|(id, _)| id)
            .collect();
        shared.sort();
        for (k, id) in shared.into_iter().enumerate() {
            self.shared.insert(id, format!("u{}", subscript(k + 1)));
        }
    }

    /// Whether writing `id` takes more than a name and a mark.
    fn is_compound(&self, id: Id) -> bool {
        let node = self.graph.node(id);
        !node.args.is_empty()
            && !matches!(node.op, Op::Transpose(_) | Op::Neg(_) if self.graph.node(node.args[0]).args.is_empty())
    }

    pub fn write(&mut self, id: Id) -> Formula {
        if let Some(name) = self.named(id).or_else(|| self.shared.get(&id).cloned()) {
            self.used.insert(id, name.clone());
            return Formula::atom(name);
        }
        self.expand(id)
    }

    /// A closure's `root` with its captures written as `captured`: its nodes
    /// are shared by every closure of the same form, so they are written
    /// afresh, not from the memo.
    fn closure(&mut self, root: Id, captured: &[Formula]) -> Formula {
        let memo = std::mem::take(&mut self.memo);
        let outer = std::mem::replace(&mut self.captured, captured.to_vec());
        let f = self.write(root);
        self.captured = outer;
        self.memo = memo;
        f
    }

    /// The user's name for `id`, if it is one of the function's `let`s.
    fn named(&self, id: Id) -> Option<String> {
        match self.graph.op(id) {
            Op::Param(_) | Op::Constant(_) | Op::Lit(_) | Op::LambdaParam(_) | Op::EntryVar(_) => {
                None
            }
            _ if id > self.forward_end => None,
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
            Op::Constant(c) => Formula::atom(crate::errors::show(&self.graph.constants[c.index])),
            Op::Captured(c) => self.captured[c.0].clone(),
            Op::Map(m) => {
                let body = self.closure(m.body, &args[1..]);
                call(
                    "map",
                    &[args[0].clone(), Formula::atom(format!("v ↦ {}", body.text))],
                )
            }
            Op::MapDerivative(m) => {
                let d = self.closure(m.deriv, &args[2..]);
                call(
                    "map",
                    &[args[0].clone(), Formula::atom(format!("v ↦ {}", d.text))],
                )
            }
            Op::Entrywise(m) => {
                let vars: Vec<Formula> = m.vars.iter().map(|&v| self.write(v)).collect();
                let body = self.write(m.body);
                crate::ir::ops::entrywise_formula(&args, &vars, &body)
            }
            Op::MapAdjoint(m) => {
                let d = self.closure(m.deriv, &args[3..]);
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
            done.insert(id, format!("`{} = {text}`", self.used[&id]));
        }
        if done.is_empty() {
            String::new()
        } else {
            let defs: Vec<String> = done.into_values().collect();
            format!(", where {}", defs.join(", "))
        }
    }
}
