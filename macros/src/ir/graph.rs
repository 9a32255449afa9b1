//! The expression DAG: an arena of nodes, hash-consed so that identical
//! subexpressions are one node, each with its shape and the span of the
//! user's tokens it came from. It knows its operations only through
//! [`Operation`]: the registry (`ops`) defines them, and `ir` binds them to
//! the graph with their canonical forms (`simplify`).

use std::collections::HashMap;

use proc_macro2::Span;

pub use crate::id::{Id, RegionId};
use crate::shape::{Dims, Shape};

/// What the graph needs of its operations as it builds a node.
pub trait Operation: Clone + Eq + std::hash::Hash + std::fmt::Debug + Sized {
    /// The shape of the result, or why the arguments do not fit.
    fn shape(&self, args: &[Shape], dims: &mut Dims) -> Result<Shape, String>;
    /// The field of the result, `None` if the operation has no rule for these.
    fn field(&self, args: &[Field]) -> Option<Field>;
    /// The argument whose value the result's equals, if any.
    fn same_value_as(&self) -> Option<usize>;
    /// The node `op(args)` is rewritten to (its canonical form), if any.
    fn rewrite(g: &mut Graph<Self>, op: &Self, args: &[Id]) -> Option<Id>;
    /// A scalar literal.
    fn lit(v: f64) -> Self;
    /// The value of a literal.
    fn lit_value(&self) -> Option<f64>;
    /// Whether this is an input of a region (a loop's index or carried value).
    fn is_region_param(&self) -> bool;
    /// Whether this is a closure's parameter.
    fn is_lambda_param(&self) -> bool;
}

#[derive(Clone, Debug)]
pub struct Node<O> {
    pub op: O,
    pub args: Vec<Id>,
    pub shape: Shape,
    /// Whether its entries are real or complex numbers.
    pub field: Field,
    pub span: Span,
    /// The region the node is computed in (see [`Region`]).
    pub region: RegionId,
}

/// A region's place in the nesting and what flows in and out of it.
#[derive(Clone, Debug, Default)]
pub struct Region {
    pub parent: RegionId,
    /// The node running the region (`None` for the function body).
    pub owner: Option<Id>,
    /// Its inputs, region parameter nodes (`ops::RegionParam`): for a loop, the index,
    /// then the carried values as they enter an iteration.
    pub inputs: Vec<Id>,
    /// Its results: for a loop, the carried values as they leave an iteration.
    pub outputs: Vec<Id>,
    /// Whether it is a loop's body (run once per iteration), not a branch's side.
    pub repeated: bool,
}

/// Whether a value's entries are real numbers of the function's [`Scalar`]
/// type or complex numbers over it (`Complex<f64>`): a real value is a complex
/// one with no imaginary part, so rules written with conjugates and `ᴴ` cover
/// both, and conjugating a real value builds nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Field {
    #[default]
    Real,
    Complex,
}

/// The real type of every value in the function (complex values are over it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Scalar {
    F32,
    F64,
    /// A type parameter of the function, as in `fn f<T: RealField + Copy>`.
    Generic(proc_macro2::Ident),
}

impl Scalar {
    /// The type as written in generated code.
    pub fn tokens(&self) -> proc_macro2::TokenStream {
        match self {
            Scalar::F32 => quote::quote!(f32),
            Scalar::F64 => quote::quote!(f64),
            Scalar::Generic(t) => quote::quote!(#t),
        }
    }
}

/// What [`Graph::try_build`] says of an operation that has no rule for
/// complex values yet (the parser names the operation at its tokens).
pub const COMPLEX_NOT_YET: &str = "is not supported for complex matrices yet";

pub struct Graph<O> {
    nodes: Vec<Node<O>>,
    memo: HashMap<(O, Vec<Id>, RegionId), Id>,
    pub regions: Vec<Region>,
    /// The region new nodes go to.
    pub region: RegionId,
    pub dims: Dims,
    pub scalar: Scalar,
    /// Names of the user's `let` bindings (and of parameters), used for the
    /// generated locals and the formula.
    pub names: HashMap<Id, String>,
    /// Span given to nodes built by the differentiator (the forward node whose
    /// adjoint is being taken), so errors in emitted code point at user tokens.
    pub span: Span,
    /// The expressions of constants read from fields (`self.x`), by index.
    pub constants: Vec<proc_macro2::TokenStream>,
    /// Values that need not be computed: the node reading each off a tape
    /// (whose last argument it is).
    pub aliases: HashMap<Id, Id>,
    /// Nodes to give instead of the node an operation would build: a loop
    /// body parsed again reads products over all the samples computed before
    /// the loop (`batch::hoisted`) where it computed one per sample.
    pub substitutes: HashMap<(O, Vec<Id>, RegionId), Id>,
}

impl<O: Operation> Graph<O> {
    pub fn new(scalar: Scalar, dims: Dims) -> Self {
        Graph {
            nodes: Vec::new(),
            memo: HashMap::new(),
            regions: vec![Region::default()],
            region: RegionId(0),
            dims,
            scalar,
            names: HashMap::new(),
            span: Span::call_site(),
            constants: Vec::new(),
            aliases: HashMap::new(),
            substitutes: HashMap::new(),
        }
    }

    pub fn node(&self, id: Id) -> &Node<O> {
        &self.nodes[id.index()]
    }

    pub fn op(&self, id: Id) -> &O {
        &self.nodes[id.index()].op
    }

    pub fn shape(&self, id: Id) -> Shape {
        self.nodes[id.index()].shape
    }

    pub fn field(&self, id: Id) -> Field {
        self.nodes[id.index()].field
    }

    pub fn is_complex(&self, id: Id) -> bool {
        self.field(id) == Field::Complex
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Builds `op(args)`: checks shapes, applies the rewrite table, and returns
    /// the existing node if an identical one was built before.
    pub fn try_build(&mut self, op: impl Into<O>, args: &[Id]) -> Result<Id, String> {
        let op = op.into();
        let (shape, field) = self.checked(&op, args)?;
        if let Some(id) = O::rewrite(self, &op, args) {
            return Ok(id);
        }
        Ok(self.intern(op, args, shape, field))
    }

    /// [`Graph::build`] without the rewrite table, for a form a later pass
    /// chose on purpose that the table would rewrite (the trace of a product
    /// the gradient forms anyway, which the table turns into `tr_dot`).
    pub fn build_as_is(&mut self, op: impl Into<O>, args: &[Id]) -> Id {
        let op = op.into();
        match self.checked(&op, args) {
            Ok((shape, field)) => self.intern(op, args, shape, field),
            Err(msg) => panic!("matgrad internal error: a pass built ill-shaped {op:?}: {msg}"),
        }
    }

    /// The shape and field of `op(args)`, or why it has none.
    fn checked(&mut self, op: &O, args: &[Id]) -> Result<(Shape, Field), String> {
        let shapes: Vec<Shape> = args.iter().map(|&a| self.shape(a)).collect();
        let shape = op.shape(&shapes, &mut self.dims)?;
        let fields: Vec<Field> = args.iter().map(|&a| self.field(a)).collect();
        let field = op
            .field(&fields)
            .ok_or_else(|| COMPLEX_NOT_YET.to_owned())?;
        Ok((shape, field))
    }

    /// [`Graph::try_build`] for nodes built by rules, whose shapes hold by construction.
    pub fn build(&mut self, op: impl Into<O>, args: &[Id]) -> Id {
        let op = op.into();
        match self.try_build(op.clone(), args) {
            Ok(id) => id,
            Err(msg) => panic!("matgrad internal error: rule built ill-shaped {op:?}: {msg}"),
        }
    }

    fn intern(&mut self, op: O, args: &[Id], shape: Shape, field: Field) -> Id {
        // Leaves without a place of their own (literals, parameters) are
        // visible everywhere: they belong to the function body.
        let region = if args.is_empty() && !op.is_region_param() {
            RegionId(0)
        } else {
            self.region
        };
        let key = (op, args.to_vec(), region);
        if let Some(&id) = self.substitutes.get(&key) {
            return id;
        }
        if let Some(&id) = self.memo.get(&key) {
            return id;
        }
        let id = Id(self.nodes.len() as u32);
        self.nodes.push(Node {
            op: key.0.clone(),
            args: key.1.clone(),
            shape,
            field,
            span: self.span,
            region,
        });
        if let Some(k) = self.nodes[id.index()].op.same_value_as() {
            self.aliases.entry(args[k]).or_insert(id);
        }
        self.memo.insert(key, id);
        id
    }

    /// The node computing `op` of `args` in the current region, if the graph
    /// has one already (without building it).
    pub fn existing(&self, op: O, args: &[Id]) -> Option<Id> {
        let region = if args.is_empty() {
            RegionId(0)
        } else {
            self.region
        };
        self.memo.get(&(op, args.to_vec(), region)).copied()
    }

    /// `root` built again from the bottom up (in the current region), each
    /// node first offered to `replace`: `Some(Ok(id))` puts `id` in its place
    /// (its arguments are not visited), `Some(Err(()))` gives up, `None`
    /// builds it again from its arguments' replacements. For closure bodies:
    /// their leaves bound to values, or parts taken out as captures.
    pub fn rebuild(
        &mut self,
        root: Id,
        mut replace: impl FnMut(&mut Graph<O>, Id) -> Option<Result<Id, ()>>,
    ) -> Result<Id, ()> {
        let mut done: HashMap<Id, Id> = HashMap::new();
        // Depth first, a node's arguments before the node.
        let mut stack = vec![(root, false)];
        while let Some((id, ready)) = stack.pop() {
            if done.contains_key(&id) {
                continue;
            }
            if !ready {
                if let Some(replaced) = replace(self, id) {
                    done.insert(id, replaced?);
                    continue;
                }
                stack.push((id, true));
                stack.extend(self.node(id).args.iter().map(|&a| (a, false)));
                continue;
            }
            let node = self.node(id).clone();
            let args: Vec<Id> = node.args.iter().map(|a| done[a]).collect();
            self.span = node.span;
            let rebuilt = self.build(node.op, &args);
            done.insert(id, rebuilt);
        }
        Ok(done[&root])
    }

    /// Gives node `id` a new operation and arguments (a loop taking on more
    /// carried values); its arguments must still precede it.
    pub fn replace(&mut self, id: Id, op: O, args: &[Id]) {
        debug_assert!(
            args.iter()
                .all(|&a| a < id || self.nodes[a.index()].args.is_empty()),
            "computed arguments precede their node"
        );
        let node = &mut self.nodes[id.index()];
        self.memo
            .remove(&(node.op.clone(), node.args.clone(), node.region));
        node.op = op;
        node.args = args.to_vec();
        self.memo
            .insert((node.op.clone(), node.args.clone(), node.region), id);
    }

    /// A scalar literal.
    pub fn lit(&mut self, v: f64) -> Id {
        self.build(O::lit(v), &[])
    }

    /// The literal value of `id`, if it is one.
    pub fn lit_value(&self, id: Id) -> Option<f64> {
        self.op(id).lit_value()
    }

    /// For every node up to `root`: whether it is, or depends on, a node that
    /// satisfies `pred`. A loop's body reads the values carried from the
    /// previous iteration, which depend on whatever the loop's arguments do.
    pub fn depends_on(&self, root: Id, pred: impl Fn(Id, &Node<O>) -> bool) -> Vec<bool> {
        let mut mark = vec![false; root.index() + 1];
        for i in 0..=root.index() {
            let n = &self.nodes[i];
            let carried = n.op.is_region_param()
                && self.regions[n.region.0 as usize].owner.is_some_and(|o| {
                    let args = &self.nodes[o.index()].args;
                    args.iter().any(|a| mark.get(a.index()) == Some(&true))
                });
            // Integers and `bool`s are constants whatever they are computed from.
            let constant = matches!(n.shape, Shape::Int | Shape::Bool);
            mark[i] = !constant
                && (carried
                    || pred(Id(i as u32), n)
                    // (A loop may read a literal built after it.)
                    || n.args.iter().any(|a| mark.get(a.index()) == Some(&true)));
        }
        mark
    }

    /// Whether computing `root` reads `target`.
    pub fn uses(&self, root: Id, target: Id) -> bool {
        target <= root && self.depends_on(root, |id, _| id == target)[root.index()]
    }

    /// Whether `root` reads a closure's parameter `v` other than through
    /// `bound`, a node the closure receives as a parameter of its own.
    pub fn reads_lambda(&self, root: Id, bound: Id) -> bool {
        let mut reads = vec![false; root.index() + 1];
        for i in 0..=root.index() {
            let id = Id(i as u32);
            let node = self.node(id);
            reads[i] = id != bound
                && (node.op.is_lambda_param()
                    || node
                        .args
                        .iter()
                        .any(|a| reads.get(a.index()) == Some(&true)));
        }
        reads[root.index()]
    }

    /// Opens a new region inside the current one and makes it current, a
    /// loop's body if `repeated`; returns it and the region to go back to.
    pub fn open_region(&mut self, repeated: bool) -> (RegionId, RegionId) {
        let parent = self.region;
        self.regions.push(Region {
            parent,
            repeated,
            ..Region::default()
        });
        let r = RegionId(self.regions.len() as u32 - 1);
        self.region = r;
        (r, parent)
    }

    pub fn region_info(&self, r: RegionId) -> &Region {
        &self.regions[r.0 as usize]
    }

    pub fn region_info_mut(&mut self, r: RegionId) -> &mut Region {
        &mut self.regions[r.0 as usize]
    }

    /// Whether region `r` is, or is inside, a loop's body.
    pub fn in_loop(&self, mut r: RegionId) -> bool {
        while r != RegionId(0) {
            if self.regions[r.0 as usize].repeated {
                return true;
            }
            r = self.regions[r.0 as usize].parent;
        }
        false
    }

    /// Whether `id` reads, itself or through its arguments, an input of a
    /// loop's body: the index or a carried value, which change from one
    /// iteration to the next.
    pub fn reads_loop_input(&self, id: Id) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![id];
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            let node = &self.nodes[x.index()];
            if node.op.is_region_param() && self.regions[node.region.0 as usize].repeated {
                return true;
            }
            stack.extend(node.args.iter().copied());
        }
        false
    }

    /// Whether region `inner` is `outer` or nested in it.
    pub fn within(&self, mut inner: RegionId, outer: RegionId) -> bool {
        loop {
            if inner == outer {
                return true;
            }
            if inner == RegionId(0) {
                return false;
            }
            inner = self.regions[inner.0 as usize].parent;
        }
    }

    /// The nodes outside region `r` that the region's results are computed
    /// from, in id order: what the node running `r` captures. (A loop nested
    /// in `r` lists its own captures among its arguments.)
    pub fn captures(&self, r: RegionId) -> Vec<Id> {
        let mut out = std::collections::BTreeSet::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<Id> = self.region_info(r).outputs.clone();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let node = &self.nodes[id.index()];
            if self.within(node.region, r) {
                stack.extend(node.args.iter().copied());
                // A value read off a tape reads the tape.
                stack.extend(self.aliases.get(&id).copied());
            } else {
                out.insert(id);
            }
        }
        out.into_iter().collect()
    }
}
