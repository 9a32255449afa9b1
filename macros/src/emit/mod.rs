//! IR → nalgebra code: every needed node once, in id order (so the forward
//! values come first and the backward pass reuses them), each as a `let`
//! spanned to the user's tokens it came from; then the result tuple.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use crate::code::{private_alias, ClosureParam, Value};
use crate::ir::ops::{EmitCx, Factor, MapDerivative, MatMul, Op};
use crate::ir::{Field, Graph, Id, Scalar};
use crate::plan::{Accumulate, Plan, SummedMap};
use crate::shape::{conforms, Dim, Origin, Shape};
use crate::signature::ParamSig;

mod region;
mod rows;
mod work;

use work::{closure_weight, TRANSCENDENTAL};

/// What the emitter knows while it writes a batch of nodes; the rules of the
/// operations see it as [`EmitCx`].
pub struct Emitter<'a> {
    graph: &'a Graph,
    params: &'a [ParamSig],
    private: TokenStream,
    /// Values of the nodes emitted so far.
    values: HashMap<Id, Value>,
    /// The shape of the node being emitted.
    current: Shape,
    /// The node being emitted (its fields, real or complex, and its arguments').
    node: Option<Id>,
    /// How the batch being emitted reuses memory (empty unless it is the last).
    plan: Plan,
    /// Carried values of the loop being emitted that the one node reading
    /// them (a nested loop starting from them) may take by value.
    movable: std::collections::HashSet<Id>,
    /// In a closure: the values of the captures it reads (`ops::Captured`).
    captured: Vec<Value>,
    /// In a loop body: the maps that write into a buffer kept from the
    /// previous iteration (an `Option` local, see `emit_loop`), and those
    /// whose code took it (a map read off a tape, or computed with its
    /// derivative, takes none).
    spares: HashMap<Id, Ident>,
    spares_taken: std::cell::RefCell<BTreeSet<Id>>,
}

impl EmitCx for Emitter<'_> {
    fn shape(&self) -> Shape {
        self.current
    }

    fn arg_shape(&self, i: usize) -> Shape {
        let id = self.node.expect("a node being emitted");
        self.graph.shape(self.graph.node(id).args[i])
    }

    fn field(&self) -> Field {
        self.node.map_or(Field::Real, |id| self.graph.field(id))
    }

    fn arg_field(&self, arg: usize) -> Field {
        self.node.map_or(Field::Real, |id| {
            self.graph.field(self.graph.node(id).args[arg])
        })
    }

    fn scalar_type(&self) -> TokenStream {
        self.graph.scalar.tokens()
    }

    fn element_type(&self) -> TokenStream {
        let ty = self.scalar_type();
        match self.field() {
            Field::Real => ty,
            Field::Complex => {
                let p = &self.private;
                quote!(#p::nalgebra::Complex<#ty>)
            }
        }
    }

    fn private(&self) -> &TokenStream {
        &self.private
    }

    fn lit(&self, v: f64) -> TokenStream {
        let representable = match &self.graph.scalar {
            Scalar::F32 => (v as f32).is_finite(),
            _ => v.is_finite(),
        };
        if !representable {
            return self.non_finite(v);
        }
        if let Some(c) = self.named_constant(v) {
            return c;
        }
        let magnitude = match &self.graph.scalar {
            Scalar::F32 => Literal::f32_suffixed(v.abs() as f32),
            Scalar::F64 | Scalar::Generic(_) => Literal::f64_suffixed(v.abs()),
        };
        let signed = if v.is_sign_negative() {
            quote!(-#magnitude)
        } else {
            quote!(#magnitude)
        };
        match &self.graph.scalar {
            Scalar::Generic(t) => {
                let p = &self.private;
                quote!((#p::nalgebra::convert::<f64, #t>(#signed)))
            }
            _ if v.is_sign_negative() => quote!((#signed)),
            _ => signed,
        }
    }

    fn dim(&self, d: Dim) -> TokenStream {
        let p = &self.private;
        match d {
            Dim::Fixed(n) => quote!(#p::Const::<#n>),
            Dim::Dynamic(s) => match self.graph.dims.origin(s) {
                Origin::Param { param, axis } => {
                    let name = &self
                        .params
                        .iter()
                        .find(|p| p.ident == param)
                        .expect("origin")
                        .ident;
                    let axis = syn::Index::from(*axis);
                    quote!(#name.shape_generic().#axis)
                }
                Origin::Constant { index, axis } => {
                    let tokens = &self.graph.constants[*index];
                    let axis = syn::Index::from(*axis);
                    quote!((#tokens).shape_generic().#axis)
                }
                Origin::Int(id) => {
                    // (Before its node's `let`, a size read off leaves: `xs.len()`.)
                    let n = match self.values.get(id) {
                        Some(v) => v.operand().clone(),
                        None => {
                            let args: Vec<Value> = (self.graph.node(*id).args.iter())
                                .map(|a| self.values.get(a).cloned().or_else(|| self.leaf(*a)))
                                .collect::<Option<_>>()
                                .expect("a size computed from leaves");
                            self.graph.op(*id).rule().emit(self, &args)
                        }
                    };
                    quote!(#p::nalgebra::Dyn(#n))
                }
                Origin::Element { data, axis } => {
                    // Read off a parameter where the body ties the size to one: a slice
                    // may be empty.
                    let readable = self.graph.dims.readable(s);
                    if readable != s {
                        return self.dim(Dim::Dynamic(readable));
                    }
                    // (A parameter's name, or a field's path, `self.xs`.)
                    let data: TokenStream = data.parse().expect("a data parameter or field");
                    let axis = syn::Index::from(*axis);
                    quote!(#p::nalgebra::Dyn((#data).first().map_or(0, |__mg_e| __mg_e.shape().#axis)))
                }
                Origin::Product(a, b) => {
                    let (a, b) = (self.dim(*a), self.dim(*b));
                    quote!(#p::nalgebra::Dyn(#p::nalgebra::Dim::value(&#a) * #p::nalgebra::Dim::value(&#b)))
                }
            },
        }
    }

    fn same_size(&self, a: Dim, b: Dim) -> bool {
        self.graph.dims.same(a, b)
    }

    fn param(&self, index: usize) -> Value {
        let p = &self.params[index];
        let name = &p.ident;
        match (p.shape, p.by_ref) {
            (Shape::Scalar | Shape::Int | Shape::Bool, false) => Value::Scalar(quote!(#name)),
            (Shape::Scalar | Shape::Int | Shape::Bool, true) => Value::Scalar(quote!((*#name))),
            (Shape::Data, _) => Value::Scalar(quote!(#name)),
            (Shape::Matrix(..), false) => Value::Matrix {
                operand: quote!(&#name),
                receiver: quote!(#name),
            },
            (Shape::Matrix(..), true) => Value::Matrix {
                operand: quote!(#name),
                receiver: quote!(#name),
            },
        }
    }

    fn constant(&self, index: usize) -> Value {
        let tokens = &self.graph.constants[index];
        let shape = (0..self.graph.len() as u32)
            .map(Id)
            .find_map(|id| match self.graph.op(id) {
                Op::Constant(c) if c.index == index => Some(c.shape),
                _ => None,
            })
            .unwrap_or(Shape::Scalar);
        match shape {
            Shape::Matrix(..) => Value::Matrix {
                operand: quote!(&(#tokens)),
                receiver: quote!((#tokens)),
            },
            _ => Value::Scalar(quote!((#tokens))),
        }
    }

    fn captured(&self, k: usize) -> &Value {
        &self.captured[k]
    }

    fn lambda_param(&self) -> TokenStream {
        let v = closure_ident("v");
        quote!(#v)
    }

    fn forms_first_factor(&self) -> bool {
        (self.node).is_some_and(|id| self.plan.formed_factors.contains(&id))
    }

    fn borrows_lower_triangle(&self) -> bool {
        self.node
            .is_some_and(|id| self.plan.lower_triangle.contains(&id))
    }

    fn spare(&self) -> Option<&Ident> {
        let node = self.node?;
        let spare = self.spares.get(&node)?;
        self.spares_taken.borrow_mut().insert(node);
        Some(spare)
    }

    fn costly_map_weight(&self, body: Id) -> Option<usize> {
        let weight = closure_weight(self.graph, body);
        (self.current.has_dynamic() && weight >= TRANSCENDENTAL).then_some(weight)
    }

    fn uses(&self, root: Id, target: Id) -> bool {
        self.graph.uses(root, target)
    }

    fn reads_lambda(&self, root: Id, bound: Id) -> bool {
        self.graph.reads_lambda(root, bound)
    }

    fn closure(&self, root: Id, params: &[ClosureParam], captured: &[Value]) -> TokenStream {
        self.closure_with(&[root], params, captured, |mut body| body.remove(0))
    }

    fn closure_pair(
        &self,
        first: Id,
        second: Id,
        params: &[ClosureParam],
        captured: &[Value],
    ) -> TokenStream {
        self.closure_with(
            &[first, second],
            params,
            captured,
            |body| quote!((#(#body),*)),
        )
    }

    fn closure_times_adjoint(
        &self,
        root: Id,
        params: &[ClosureParam],
        captured: &[Value],
    ) -> TokenStream {
        let g = closure_ident("g");
        self.closure_with(&[root], params, captured, |body| {
            let body = &body[0];
            quote!(#g * #body)
        })
    }
}

impl<'a> Emitter<'a> {
    /// A value of `core::f64::consts` (or `f32::consts`), such as `LN_2` in
    /// the derivative of `log2` or a `PI` the user wrote, by its path: clippy
    /// rejects its digits as an approximation of the constant.
    fn named_constant(&self, v: f64) -> Option<TokenStream> {
        macro_rules! find {
            ($($c:ident)*) => {{
                let f32_scalar = self.graph.scalar == Scalar::F32;
                let m = v.abs();
                [$((stringify!($c), m == ::core::f64::consts::$c
                    || f32_scalar && m as f32 == ::core::f32::consts::$c)),*]
                    .into_iter()
                    .find(|(_, hit)| *hit)
                    .map(|(name, _)| Ident::new(name, Span::call_site()))
            }};
        }
        let name = find!(
            E FRAC_1_PI FRAC_1_SQRT_2 FRAC_2_PI FRAC_2_SQRT_PI FRAC_PI_2 FRAC_PI_3 FRAC_PI_4
            FRAC_PI_6 FRAC_PI_8 LN_10 LN_2 LOG10_2 LOG10_E LOG2_10 LOG2_E PI SQRT_2 TAU
        )?;
        let sign = if v.is_sign_negative() {
            quote!(-)
        } else {
            quote!()
        };
        Some(match &self.graph.scalar {
            Scalar::F32 => quote!((#sign ::core::f32::consts::#name)),
            Scalar::F64 => quote!((#sign ::core::f64::consts::#name)),
            Scalar::Generic(t) => {
                let p = &self.private;
                quote!((#p::nalgebra::convert::<f64, #t>(#sign ::core::f64::consts::#name)))
            }
        })
    }

    /// ∞, −∞ or NaN (a literal such as `1e400`, or folded constants that
    /// overflow), which have no literal form.
    fn non_finite(&self, v: f64) -> TokenStream {
        let name = if v.is_nan() {
            quote!(NAN)
        } else if v > 0.0 {
            quote!(INFINITY)
        } else {
            quote!(NEG_INFINITY)
        };
        match &self.graph.scalar {
            Scalar::F32 => quote!((::core::primitive::f32::#name)),
            Scalar::F64 => quote!((::core::primitive::f64::#name)),
            Scalar::Generic(t) => {
                let p = &self.private;
                quote!((#p::nalgebra::convert::<f64, #t>(::core::primitive::f64::#name)))
            }
        }
    }

    /// A closure over `params` computing `roots`, reading the values
    /// `captured` from around it (by reference: it is not `move`).
    fn closure_with(
        &self,
        roots: &[Id],
        params: &[ClosureParam],
        captured: &[Value],
        finish: impl FnOnce(Vec<TokenStream>) -> TokenStream,
    ) -> TokenStream {
        let mut inner = Emitter {
            graph: self.graph,
            params: self.params,
            private: self.private.clone(),
            values: HashMap::new(),
            current: Shape::Scalar,
            node: None,
            plan: Plan::default(),
            movable: Default::default(),
            captured: captured.to_vec(),
            spares: HashMap::new(),
            spares_taken: Default::default(),
        };
        let mut idents = Vec::new();
        for p in params {
            let ident = match p {
                ClosureParam::Adjoint => closure_ident("g"),
                ClosureParam::Lambda => closure_ident("v"),
                ClosureParam::Node(id) => {
                    let y = closure_ident("y");
                    inner.values.insert(*id, Value::Scalar(quote!(#y)));
                    y
                }
                ClosureParam::Entry(id, k) => {
                    let v = closure_ident(&format!("v{k}"));
                    inner.values.insert(*id, Value::Scalar(quote!(#v)));
                    v
                }
            };
            idents.push(ident);
        }
        let needed = needed(self.graph, roots, |id| inner.values.contains_key(&id));
        inner.plan = inner.plan(&needed, roots);
        let lets = inner.lets(&needed, "c");
        let results = roots.iter().map(|r| inner.values[r].operand().clone());
        let result = finish(results.collect());
        quote!(|#(#idents),*| { #lets #result })
    }

    /// Emits `let`s for the `needed` nodes that have no value yet.
    fn lets(&mut self, needed: &BTreeSet<Id>, prefix: &str) -> TokenStream {
        let mut out = TokenStream::new();
        // Leaves first: a node may read a leaf built after it.
        for &id in needed {
            if !self.values.contains_key(&id) {
                if let Some(value) = self.leaf(id) {
                    self.values.insert(id, value);
                }
            }
        }
        for &id in needed {
            out.extend(self.emit_node(id, needed, prefix));
        }
        out
    }

    /// The `let` computing node `id` of the batch `needed`, unless it has a
    /// value already (or is computed where it is read).
    fn emit_node(&mut self, id: Id, needed: &BTreeSet<Id>, prefix: &str) -> TokenStream {
        let mut out = TokenStream::new();
        {
            if self.values.contains_key(&id) {
                return out;
            }
            if self.plan.deferred.contains(&id) {
                return out; // computed inside the sum or scaling that reads it
            }
            // A value read off a tape instead of computed again.
            if let Some(&read) = self.graph.aliases.get(&id) {
                out.extend(self.emit_node(read, needed, prefix));
                let value = self.values[&read].clone();
                self.values.insert(id, value);
                return out;
            }
            let node = self.graph.node(id);
            self.current = node.shape;
            self.node = Some(id);
            if let Some((first, second, expr)) = self.fused(id, needed) {
                let (name, second_name) = (
                    self.local_name(first, prefix),
                    self.local_name(second, prefix),
                );
                let span = node.span;
                out.extend(quote_spanned!(span=> let (#name, #second_name) = #expr;));
                for (id, name) in [(first, name), (second, second_name)] {
                    let value = Value::local(&name, self.graph.shape(id));
                    self.values.insert(id, value);
                }
                return out;
            }
            match node.op {
                Op::Loop(_) => {
                    out.extend(self.emit_loop(id, needed));
                    return out;
                }
                Op::If(_) => {
                    out.extend(self.emit_if(id));
                    return out;
                }
                _ => {}
            }
            let op = &node.op;
            let expr = match (self.plan.accumulate.get(&id), self.plan.scaled.get(&id)) {
                (Some(&sum), _) => self.accumulation(sum),
                (None, Some(&product)) => self.scaled_product(id, product),
                (None, None) if self.plan.transposed.contains_key(&id) => {
                    MatMul.emit_transposed(self, &self.factors(id).1)
                }
                (None, None) if self.plan.scaled_terms.contains_key(&id) => self.scaled_term(id),
                (None, None) => {
                    let args = self.args(id);
                    (self.product_into_spare(op, &args))
                        .unwrap_or_else(|| op.rule().emit(self, &args))
                }
            };
            if self.plan.inline.contains(&id) {
                let expr = parenthesized(expr);
                let value = match node.shape {
                    Shape::Scalar => Value::Scalar(expr),
                    shape => Value::Moved(expr, shape),
                };
                self.values.insert(id, value);
                return out;
            }
            let name = self.local_name(id, prefix);
            let span = node.span;
            out.extend(quote_spanned!(span=> let #name = #expr;));
            let value = if op.rule().borrows() || self.plan.lower_triangle.contains(&id) {
                Value::borrowed(&name, node.shape)
            } else {
                Value::local(&name, node.shape)
            };
            self.values.insert(id, value);
        }
        out
    }

    /// The value of a leaf, written where it is read (`None` for other nodes).
    fn leaf(&self, id: Id) -> Option<Value> {
        let op = self.graph.op(id);
        Some(match op {
            Op::Param(p) => self.param(p.index),
            Op::Constant(c) => self.constant(c.index),
            Op::Lit(l) => Value::Scalar(self.lit(l.value())),
            Op::IntLit(_) | Op::BoolLit(_) | Op::Size(_) => {
                Value::Scalar(op.rule().emit(self, &[]))
            }
            Op::LambdaParam(_) => Value::Scalar(self.lambda_param()),
            Op::Captured(c) => self.captured(c.0).clone(),
            Op::Zeros(_) => {
                let zeros = op.rule().emit(self, &[]);
                Value::Matrix {
                    operand: quote!(&#zeros),
                    receiver: zeros,
                }
            }
            _ => return None,
        })
    }

    /// The values of `id`'s arguments, those it may take by value moved.
    fn args(&self, id: Id) -> Vec<Value> {
        let node = self.graph.node(id);
        let rule = node.op.rule();
        (node.args.iter().enumerate())
            .map(|(i, a)| {
                if !rule.reads(self.graph, id, i) {
                    return Value::Scalar(quote!(()));
                }
                let value = self.values[a].clone();
                if rule.reuses(i) && self.plan.move_into.get(a) == Some(&id) {
                    value.moved(self.graph.shape(*a))
                } else {
                    value
                }
            })
            .collect()
    }

    /// `acc ± a b` on the buffer of `acc`, moved in: the product is added by
    /// `gemm` with β = 1 and never formed on its own. Likewise `acc + y eᵢ`,
    /// by adding `y` to entry `i`.
    fn accumulation(&self, sum: Accumulate) -> TokenStream {
        let acc = &self.values[&sum.acc];
        let sign = if sum.negate { -1.0 } else { 1.0 };
        let alpha = match sum.scaled {
            Some((_, alpha)) => {
                let alpha = self.values[&alpha].operand();
                if sum.negate {
                    quote!(-#alpha)
                } else {
                    alpha.clone()
                }
            }
            None => self.lit(sign),
        };
        if let Some(inner) = sum.into_block {
            return self.product_into_block(acc, &alpha, sum.product, inner);
        }
        if let Some(add) = self.product_added(acc, &alpha, sum.product) {
            return add;
        }
        let (node, factors) = self.factors(sum.product);
        let m = Ident::new("__mg_m", Span::mixed_site());
        let add = (node.op.rule().add_into(&quote!(#m), &factors))
            .unwrap_or_else(|| unreachable!("{:?} is not added in place", node.op));
        let acc = acc.receiver();
        quote!({ let mut #m = #acc; #add #m })
    }

    /// `acc + α P` by `gemm` with β = 1 on `acc`'s buffer, for a product `P`
    /// (`None` for any other node).
    fn product_added(&self, acc: &Value, alpha: &TokenStream, product: Id) -> Option<TokenStream> {
        let (node, factors) = self.factors(product);
        Some(match &node.op {
            Op::MatMul(op) => op.emit_add(self, acc, alpha, &factors, self.second(product)),
            Op::TrMul(op) => op.emit_add(self, acc, alpha, &factors),
            _ => return None,
        })
    }

    /// `acc[block] + α P` for the view's adjoint `scatter` placing the product
    /// `P` (`inner`): `gemm` adds `α P` into the block of `acc`'s buffer.
    fn product_into_block(
        &self,
        acc: &Value,
        alpha: &TokenStream,
        scatter: Id,
        inner: Id,
    ) -> TokenStream {
        let node = self.graph.node(scatter);
        let Op::ViewScatter(op) = &node.op else {
            unreachable!("a product is added into the block of a view's adjoint")
        };
        let indices: Vec<Value> = node.args[1..]
            .iter()
            .map(|a| self.values[a].clone())
            .collect();
        let m = Ident::new("__mg_m", Span::mixed_site());
        let block = Value::Scalar(op.block(&quote!(#m), &indices));
        let add = (self.product_added(&block, alpha, inner))
            .unwrap_or_else(|| unreachable!("only products are added into a block"));
        let acc = acc.receiver();
        quote!({ let mut #m = #acc; #add; #m })
    }

    /// `a ± b s` in one pass for the sum `id` whose term `b s` is a scaling
    /// read by nothing else (`__private::add_scaled`, `a − b s` as
    /// `a + b (−s)`, the same arithmetic entry by entry), on `a`'s buffer
    /// when `a` is taken by value.
    fn scaled_term(&self, id: Id) -> TokenStream {
        let (node, term) = (self.graph.node(id), self.plan.scaled_terms[&id]);
        let k = (node.args.iter().position(|&a| a == term)).expect("the scaling is a term");
        let other = node.args[1 - k];
        let mut a = self.values[&other].clone();
        if self.plan.move_into.get(&other) == Some(&id) {
            a = a.moved(self.graph.shape(other));
        }
        let [b, s] = [0, 1].map(|i| self.values[&self.graph.node(term).args[i]].clone());
        let (p, b, s) = (self.private(), b.operand(), s.operand());
        let s = match node.op {
            Op::Sub(_) => quote!(-#s),
            _ => s.clone(),
        };
        match a {
            Value::Moved(a, _) => quote!(#p::add_scaled_over(#a, #b, #s)),
            a => {
                let a = a.operand();
                quote!(#p::add_scaled(#a, #b, #s))
            }
        }
    }

    /// `α P` for the scaling `id` of the product `P`, with α folded into
    /// `gemm` and `P` never formed on its own.
    fn scaled_product(&self, id: Id, product: Id) -> TokenStream {
        let alpha = &self.values[&self.graph.node(id).args[1]];
        let second = self.second(product);
        let (product, factors) = self.factors(product);
        match &product.op {
            Op::MatMul(op) => op.emit_scaled(self, alpha, &factors, second),
            Op::TrMul(op) => op.emit_scaled(self, alpha, &factors),
            op => unreachable!("only products are scaled in gemm, not {op:?}"),
        }
    }

    /// A deferred product's node and the values of its factors (for `A Bᵀ`
    /// whose transpose is not formed, of `A` and `B`).
    fn factors(&self, product: Id) -> (&crate::ir::Node, Vec<Value>) {
        let node = self.graph.node(product);
        let mut args = node.args.clone();
        if let Some(&b) = self.plan.transposed.get(&product) {
            args[1] = b;
        }
        (node, args.iter().map(|a| self.values[a].clone()).collect())
    }

    /// How the product `product` reads its second factor.
    fn second(&self, product: Id) -> Factor {
        match self.plan.transposed.contains_key(&product) {
            true => Factor::Transposed,
            false => Factor::AsIs,
        }
    }

    /// A `map` computed in one pass with another node of the same batch: with
    /// its derivative (as under `sum`), or else with its sum where its entries
    /// are read too. The node bound first (the map, or its sum where the map is
    /// read by nothing else), the other, and the expression computing both.
    fn fused(&self, id: Id, batch: &BTreeSet<Id>) -> Option<(Id, Id, TokenStream)> {
        if let Some(summed) = self.plan.summed_maps.get(&id) {
            return Some((summed.sum, summed.derivative, self.summed_map(id, summed)));
        }
        let Op::Map(map) = self.graph.op(id) else {
            return None;
        };
        let later = |found: &dyn Fn(Id) -> bool| {
            (batch.range(id..).copied()).find(|&n| found(n) && !self.values.contains_key(&n))
        };
        // The map's arguments, moved in where the plan says so (never with a
        // derivative, which reads them after the map).
        let args = self.args(id);
        if let Some(derivative) = later(&|d| MapDerivative::of(self.graph, d, id)) {
            let Op::MapDerivative(deriv) = self.graph.op(derivative) else {
                unreachable!("found above")
            };
            return Some((id, derivative, deriv.emit_with_map(self, &args)));
        }
        // (A map read by nothing but its sum is written inside it.)
        if self.plan.inline.contains(&id) {
            return None;
        }
        let sum =
            later(&|s| matches!(self.graph.op(s), Op::Sum(_)) && self.graph.node(s).args == [id])?;
        Some((id, sum, map.emit_with_sum(self, &args)?))
    }

    /// `(Σ f.(A), f′.(A))` in one pass for the `map` `id` read only by its sum
    /// and its derivative.
    fn summed_map(&self, id: Id, summed: &SummedMap) -> TokenStream {
        let Op::MapDerivative(deriv) = self.graph.op(summed.derivative) else {
            unreachable!("a summed map's derivative")
        };
        let mut values: Vec<Value> = (self.graph.node(id).args.iter())
            .map(|a| self.values[a].clone())
            .collect();
        if summed.overwrites_argument {
            values[0] = values[0].clone().moved(self.graph.shape(id));
        }
        deriv.emit_summed(self, &values)
    }

    fn local_name(&self, id: Id, prefix: &str) -> Ident {
        let name = match self.graph.names.get(&id) {
            Some(n) if is_plain(n) => format!("__mg_{n}_{}", id.0),
            _ => format!("__mg_{prefix}{}", id.0),
        };
        Ident::new(&name, Span::mixed_site())
    }
}

/// `expr` as one operand: in parentheses unless it is a path, a literal or a
/// chain of calls, which bind tighter than any operator.
fn parenthesized(expr: TokenStream) -> TokenStream {
    use proc_macro2::TokenTree;
    let postfix = expr.clone().into_iter().all(|t| match t {
        TokenTree::Punct(p) => matches!(p.as_char(), '.' | ':'),
        _ => true,
    });
    if postfix {
        expr
    } else {
        quote!((#expr))
    }
}

/// `body`, a block, with `use ::matgrad::__private as __mg_p;` first if it
/// calls a helper.
pub fn with_private_alias(body: TokenStream) -> TokenStream {
    fn mentions(tokens: TokenStream, alias: &Ident) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == *alias,
            proc_macro2::TokenTree::Group(g) => mentions(g.stream(), alias),
            _ => false,
        })
    }
    let alias = private_alias();
    let mut tokens = body.clone().into_iter();
    match (tokens.next(), tokens.next()) {
        (Some(proc_macro2::TokenTree::Group(g)), None)
            if g.delimiter() == proc_macro2::Delimiter::Brace && mentions(g.stream(), &alias) =>
        {
            let inner = g.stream();
            quote!({ use ::matgrad::__private as #alias; #inner })
        }
        _ => body,
    }
}

fn is_plain(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn closure_ident(name: &str) -> Ident {
    Ident::new(&format!("__mg_{name}"), Span::mixed_site())
}

/// The nodes `roots` need, not looking past those `known` already. (Closure
/// bodies are not arguments: they are emitted inside their closures.)
fn needed(g: &Graph, roots: &[Id], known: impl Fn(Id) -> bool) -> BTreeSet<Id> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Id> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if seen.insert(id) && !known(id) {
            // A value read off a tape needs the read, not its computation.
            if let Some(&read) = g.aliases.get(&id) {
                stack.push(read);
                continue;
            }
            let node = g.node(id);
            let rule = node.op.rule();
            let read = (node.args.iter().enumerate()).filter(|&(i, _)| rule.reads(g, id, i));
            stack.extend(read.map(|(_, &a)| a));
        }
    }
    seen
}

/// One gradient to return: the node holding it (`None` when the value does not
/// depend on the parameter) and the parameter's index.
pub struct GradOut {
    pub node: Option<Id>,
    pub param: usize,
}

impl<'a> Emitter<'a> {
    pub fn new(graph: &'a Graph, params: &'a [ParamSig]) -> Self {
        Emitter {
            graph,
            params,
            private: private_alias().into_token_stream(),
            values: HashMap::new(),
            current: Shape::Scalar,
            node: None,
            plan: Plan::default(),
            movable: Default::default(),
            captured: Vec::new(),
            spares: HashMap::new(),
            spares_taken: Default::default(),
        }
    }

    /// `let`s computing `roots` and whatever they need that has no value yet.
    pub fn compute(&mut self, roots: &[Id]) -> TokenStream {
        let known: BTreeSet<Id> = self.values.keys().copied().collect();
        let need = needed(self.graph, roots, |id| known.contains(&id));
        self.lets(&need, "t")
    }

    /// Like [`Emitter::compute`], for the last batch: whatever the `roots` need
    /// is emitted here and read by nothing after it but the roots themselves,
    /// so a local read by a single node may be moved into that node.
    pub fn compute_last(&mut self, roots: &[Id]) -> TokenStream {
        let known: BTreeSet<Id> = self.values.keys().copied().collect();
        let need = needed(self.graph, roots, |id| known.contains(&id));
        self.plan = self.plan(&need, roots);
        let lets = self.lets(&need, "t");
        self.plan = Plan::default();
        lets
    }

    /// The memory plan for emitting `need` (its nodes without values yet).
    fn plan(&self, need: &BTreeSet<Id>, roots: &[Id]) -> Plan {
        let fresh = (need.iter().copied())
            .filter(|id| !self.values.contains_key(id))
            .collect();
        Plan::new(self.graph, &fresh, roots, |id| self.is_local(id))
    }

    /// Whether `id` is emitted as a `let` of its own.
    fn is_local(&self, id: Id) -> bool {
        let op = self.graph.op(id);
        !matches!(
            op,
            Op::Param(_)
                | Op::Constant(_)
                | Op::Lit(_)
                | Op::LambdaParam(_)
                | Op::Captured(_)
                | Op::IntLit(_)
                | Op::BoolLit(_)
                | Op::Size(_)
                | Op::RegionParam(_)
                | Op::Zeros(_)
                // A view borrows its matrix: never moved, never reused.
                | Op::View(_)
        ) && !op.rule().borrows()
    }

    pub fn value(&self, id: Id) -> &Value {
        &self.values[&id]
    }

    /// The nodes with values, to [`Emitter::forget_since`] after a scope ends.
    pub fn known(&self) -> BTreeSet<Id> {
        self.values.keys().copied().collect()
    }

    /// Forgets the values computed since `known` (their `let`s went out of scope).
    pub fn forget_since(&mut self, known: &BTreeSet<Id>) {
        self.values.retain(|id, _| known.contains(id));
    }

    /// The gradient for parameter `param` in node `node` as an owned value of
    /// the parameter's type: moved out of its local when `movable`, cloned
    /// otherwise; zero when there is no node.
    pub fn owned_like_param(&self, node: Option<Id>, param: usize, movable: bool) -> TokenStream {
        let p = &self.private;
        let shape = self.params[param].shape;
        let x = self.param(param);
        let x = x.operand();
        let Some(id) = node else {
            return match (shape.is_scalar(), self.params[param].field) {
                (false, _) => quote!(#p::zeros_like(#x)),
                (true, Field::Real) => self.lit(0.0),
                (true, Field::Complex) => {
                    let zero = self.lit(0.0);
                    quote!(#p::nalgebra::Complex::new(#zero, #zero))
                }
            };
        };
        let owned = self.owned(id, movable);
        if conforms(self.graph.shape(id), shape) {
            owned
        } else {
            quote!(#p::conform(#owned, #x))
        }
    }

    /// The value of `id`, owned: a scalar, a moved local, or a clone.
    pub fn owned(&self, id: Id, movable: bool) -> TokenStream {
        match &self.values[&id] {
            Value::Scalar(t) => t.clone(),
            Value::Matrix { receiver, .. } | Value::Moved(receiver, _)
                if self.is_local(id) && movable =>
            {
                receiver.clone()
            }
            // (A view's `clone` is a view; a tape's entry may be one.)
            Value::Matrix { receiver, .. }
                if matches!(
                    self.graph.op(id),
                    Op::View(_) | Op::TapeRead(_) | Op::TapeNext(_)
                ) =>
            {
                quote!(#receiver.clone_owned())
            }
            // A fresh zero matrix, written where it is read.
            Value::Matrix { receiver, .. } if matches!(self.graph.op(id), Op::Zeros(_)) => {
                receiver.clone()
            }
            Value::Matrix { receiver, .. } | Value::Moved(receiver, _) => {
                quote!(#receiver.clone())
            }
        }
    }
}

/// The body of `<name>_grad`: the statements computing `value` and the
/// gradients, and the tuple returning them.
/// Where the samples are rows that the value and the gradient only sum over,
/// a second body computing the sums block of rows by block of rows across
/// threads, taken where that pays (`rows.rs`).
pub fn body(g: &Graph, params: &[ParamSig], value: Id, grads: &[GradOut]) -> TokenStream {
    let mut roots = vec![value];
    roots.extend(grads.iter().filter_map(|o| o.node));
    let finish = |mut cx: Emitter, before: TokenStream| {
        let lets = cx.compute_last(&roots);
        let mut items = vec![cx.value(value).operand().clone()];
        items.extend(grad_items(&cx, grads));
        quote!(#before #lets (#(#items),*))
    };
    let as_written = finish(Emitter::new(g, params), TokenStream::new());
    let mut cx = Emitter::new(g, params);
    match cx.sums_over_rows(&roots) {
        Some((setup, splits, sums)) => {
            let by_blocks = finish(cx, sums);
            quote!(#setup if #splits { #by_blocks } else { #as_written })
        }
        None => as_written,
    }
}

/// Each gradient as an owned value of its parameter's type; a local used by
/// no later gradient is moved.
pub fn grad_items(cx: &Emitter, grads: &[GradOut]) -> Vec<TokenStream> {
    let mut moved: BTreeSet<Id> = BTreeSet::new();
    grads
        .iter()
        .enumerate()
        .map(|(k, out)| {
            let used_later = grads[k + 1..].iter().any(|o| o.node == out.node);
            let movable = out.node.is_some_and(|id| !used_later && moved.insert(id));
            cx.owned_like_param(out.node, out.param, movable)
        })
        .collect()
}
