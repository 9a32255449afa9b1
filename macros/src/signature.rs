//! The function's signature: parameter types → shapes, and the scalar type of
//! the return value.

use proc_macro2::Ident;
use syn::{FnArg, GenericArgument, Pat, PathArguments, ReturnType, Signature, Type};

use crate::errors::Errors;
use crate::ir::{Field, Scalar};
use crate::shape::{Dim, Dims, Origin, Shape};

/// A parameter of the user's function.
pub struct ParamSig {
    pub ident: Ident,
    /// The type of its gradient: the parameter's type with any reference removed.
    pub owned_ty: Type,
    pub by_ref: bool,
    pub shape: Shape,
    /// Whether its entries are complex (`Complex<f64>`, `DMatrix<Complex<f32>>`).
    pub field: Field,
    /// Why matgrad cannot compute with this parameter (not a float scalar, vector
    /// or matrix), if it cannot.
    pub unusable: Option<String>,
}

/// The scalar type the function returns, or an error at the return type.
pub fn return_scalar(sig: &Signature, errors: &mut Errors) -> Option<Scalar> {
    let msg = "#[grad] needs a function that returns a real scalar: `f64`, `f32`, or a type parameter `T: RealField + Copy`";
    match &sig.output {
        ReturnType::Type(_, ty) => match scalar_type(ty, &type_params(sig)) {
            Some(Scalar::Generic(t)) if !bounded_by_copy(sig, &t) => {
                let declared = sig.generics.type_params().find(|p| p.ident == t);
                errors.at(
                    declared,
                    format!("#[grad] needs `{t}: Copy` (the generated code copies scalars): add `+ Copy` to its bounds"),
                );
                None
            }
            Some(s) => Some(s),
            None => {
                errors.at(
                    ty,
                    format!("{msg}; this one returns `{}`", crate::errors::show(ty)),
                );
                None
            }
        },
        ReturnType::Default => {
            errors.at(&sig.ident, format!("{msg}; this one returns nothing"));
            None
        }
    }
}

/// The element type of what the function returns: a scalar, or a nalgebra
/// vector or matrix (for `#[jacobian]`).
pub fn return_element(sig: &Signature, errors: &mut Errors) -> Option<Scalar> {
    let generics = type_params(sig);
    let ReturnType::Type(_, ty) = &sig.output else {
        errors.at(
            &sig.ident,
            "#[jacobian] needs a function that returns a scalar, a vector or a matrix",
        );
        return None;
    };
    if let Some(s) = scalar_type(ty, &generics) {
        return Some(s);
    }
    let element = match &**ty {
        Type::Path(p) => p.path.segments.last().and_then(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(a) => a.args.first(),
            _ => None,
        }),
        _ => None,
    };
    let scalar = match element {
        Some(GenericArgument::Type(t)) => scalar_type(t, &generics),
        _ => None,
    };
    let shaped = type_shape(ty, &generics, &mut |_| Dim::Fixed(0)).is_ok();
    match scalar {
        Some(s) if shaped => Some(s),
        _ => {
            errors.at(
                ty,
                format!(
                    "#[jacobian] needs a function that returns a float scalar, vector or matrix; this one returns `{}`",
                    crate::errors::show(ty)
                ),
            );
            None
        }
    }
}

/// The function's type parameters.
fn type_params(sig: &Signature) -> Vec<Ident> {
    sig.generics
        .type_params()
        .map(|t| t.ident.clone())
        .collect()
}

/// Whether `t` has a `Copy` bound, inline or in the `where` clause.
fn bounded_by_copy(sig: &Signature, t: &Ident) -> bool {
    let is_copy = |b: &syn::TypeParamBound| matches!(b, syn::TypeParamBound::Trait(tb) if tb.path.segments.last().is_some_and(|s| s.ident == "Copy"));
    let inline = sig
        .generics
        .type_params()
        .any(|p| p.ident == *t && p.bounds.iter().any(is_copy));
    let in_where = sig
        .generics
        .where_clause
        .iter()
        .flat_map(|w| &w.predicates)
        .any(|pred| match pred {
            syn::WherePredicate::Type(pt) => {
                matches!(&pt.bounded_ty, Type::Path(tp) if tp.path.is_ident(t))
                    && pt.bounds.iter().any(is_copy)
            }
            _ => false,
        });
    inline || in_where
}

/// The parameters matgrad can name, and the names bound by parameters it
/// cannot (already reported, so their uses are not reported again).
pub fn params(
    sig: &Signature,
    dims: &mut Dims,
    errors: &mut Errors,
) -> (Vec<ParamSig>, Vec<Ident>) {
    let returned = match &sig.output {
        ReturnType::Type(_, ty) => scalar_type(ty, &type_params(sig)),
        ReturnType::Default => None,
    };
    let mut out = Vec::new();
    let mut reported = Vec::new();
    for arg in &sig.inputs {
        let typed = match arg {
            FnArg::Typed(t) => t,
            // `self` is read through its fields, as constants.
            FnArg::Receiver(_) => continue,
        };
        let ident = match &*typed.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            pat => {
                errors.at(
                    pat,
                    "#[grad] needs each parameter to be a plain name, as in `x: &DMatrix<f64>`",
                );
                reported.extend(pattern_names(pat));
                continue;
            }
        };
        let (inner, by_ref) = match &*typed.ty {
            Type::Reference(r) if r.mutability.is_none() => (&*r.elem, true),
            ty => (ty, false),
        };
        let (shape, field, unusable) = match value_shape(inner, &ident, &type_params(sig), dims) {
            Ok((shape, None)) => (shape, Field::Real, None),
            Ok((shape, Some(real))) => match complex_over(&real, returned.as_ref()) {
                Ok(()) => (shape, Field::Complex, None),
                Err(why) => (shape, Field::Complex, Some(why)),
            },
            Err(why) => (constant_shape(inner), Field::Real, Some(why)),
        };
        out.push(ParamSig {
            ident,
            owned_ty: inner.clone(),
            by_ref,
            shape,
            field,
            unusable,
        });
    }
    (out, reported)
}

/// Whether complex entries over `real` can be differentiated in a function
/// returning `returned`: over its own real type, `f64` or `f32`.
fn complex_over(real: &Scalar, returned: Option<&Scalar>) -> Result<(), String> {
    match (real, returned) {
        (Scalar::Generic(t), _) => Err(format!(
            "complex entries over a type parameter (`Complex<{t}>`) are not supported yet; use `Complex<f64>` or `Complex<f32>`"
        )),
        (real, Some(r)) if real != r => {
            let (a, b) = (real.tokens(), r.tokens());
            Err(format!(
                "its entries are `Complex<{a}>`, but the function returns `{b}`: complex parameters are over the real type of the loss"
            ))
        }
        _ => Ok(()),
    }
}

/// Whether `name` is one of Rust's integer types (also the suffixes that make
/// a literal an integer: `0usize`, `3i32`).
pub fn is_integer_type(name: &str) -> bool {
    matches!(
        name,
        "usize"
            | "isize"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
    )
}

/// The shape of a parameter that is not a float value: an integer, a `bool`,
/// or data (a slice, a struct, …), all constants of the gradient.
fn constant_shape(ty: &Type) -> Shape {
    let Type::Path(p) = ty else {
        return Shape::Data;
    };
    match p.path.get_ident().map(ToString::to_string).as_deref() {
        Some(name) if is_integer_type(name) => Shape::Int,
        Some("bool") => Shape::Bool,
        _ => Shape::Data,
    }
}

/// The type of the elements of a slice, `Vec` or array type, or of a reference to one.
fn element_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Slice(s) => Some(&s.elem),
        Type::Array(a) => Some(&a.elem),
        Type::Reference(r) => element_type(&r.elem),
        Type::Path(p) => {
            let seg = p.path.segments.last()?;
            match (&seg.arguments, seg.ident == "Vec") {
                (PathArguments::AngleBracketed(a), true) => match a.args.first()? {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// The shape of the elements of a slice, `Vec` or array type (`[Vector3<f64>]`,
/// `Vec<f64>`, `[usize; 4]`, `[DVector<f64>]`), when they are numbers or matrices; a dynamic
/// size of the elements of `data` is read off its first element.
pub fn element_shape(ty: &Type, g: &mut crate::ir::Graph, data: &str) -> Option<Shape> {
    data_value_shape(element_type(ty)?, g, data)
}

/// The shape of a number, an integer, a `bool` or a nalgebra matrix type, a dynamic size read
/// off the first element of `data`.
fn data_value_shape(ty: &Type, g: &mut crate::ir::Graph, data: &str) -> Option<Shape> {
    let generics: Vec<Ident> = match &g.scalar {
        Scalar::Generic(t) => vec![t.clone()],
        _ => Vec::new(),
    };
    let dims = &mut g.dims;
    let mut fresh = |axis| {
        dims.fresh(Origin::Element {
            data: data.to_owned(),
            axis,
        })
    };
    match type_shape(ty, &generics, &mut fresh) {
        Ok(shape) => Some(shape),
        Err(_) => match constant_shape(ty) {
            Shape::Data => None,
            shape => Some(shape),
        },
    }
}

/// The shape of the elements of the elements of data whose elements are themselves slices,
/// `Vec`s or arrays of numbers or fixed-size matrices (`returns: &[Vec<f64>]`).
pub fn nested_element_shape(ty: &Type, g: &mut crate::ir::Graph) -> Option<Shape> {
    let inner = element_type(ty)?;
    element_type(inner)?;
    element_shape(inner, g, "").filter(|s| !s.has_dynamic() && *s != Shape::Data)
}

/// The dimension of the points that are the elements of data (`&[Point3<f64>]`,
/// `Vec<Point<f64, 2>>`): each read as its coordinates, a fixed-size vector.
pub fn point_element_dimension(ty: &Type) -> Option<usize> {
    let Type::Path(p) = element_type(ty)? else {
        return None;
    };
    let seg = p.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let name = seg.ident.to_string();
    let n = match (name.as_str(), args.args.len()) {
        ("Point", 2) => match &args.args[1] {
            GenericArgument::Const(syn::Expr::Lit(l)) => match &l.lit {
                syn::Lit::Int(i) => i.base10_parse().ok()?,
                _ => return None,
            },
            _ => return None,
        },
        (alias, 1) => alias.strip_prefix("Point")?.parse().ok()?,
        _ => return None,
    };
    (1..=6).contains(&n).then_some(n)
}

/// The shapes of the fields of the tuples held by the elements of data whose elements are
/// slices, `Vec`s or arrays of tuples (`rows: &[Vec<(usize, f64)>]`).
pub fn nested_tuple_shapes(ty: &Type, g: &mut crate::ir::Graph) -> Option<Vec<Shape>> {
    tuple_element_shapes(element_type(ty)?, g)
}

/// The shapes of the fields of a slice's, `Vec`'s or array's elements that are tuples of
/// numbers, integers, `bool`s or fixed-size matrices (`&[(usize, usize, f64)]`).
pub fn tuple_element_shapes(ty: &Type, g: &mut crate::ir::Graph) -> Option<Vec<Shape>> {
    let Type::Tuple(tuple) = element_type(ty)? else {
        return None;
    };
    // (A field of run-time size has no name its size could be read by.)
    (tuple.elems.iter())
        .map(|field| data_value_shape(field, g, "").filter(|s| !s.has_dynamic()))
        .collect::<Option<Vec<_>>>()
        .filter(|fields| !fields.is_empty())
}

/// The names a pattern binds.
pub fn pattern_names(pat: &Pat) -> Vec<Ident> {
    match pat {
        Pat::Ident(p) => vec![p.ident.clone()],
        Pat::Type(t) => pattern_names(&t.pat),
        Pat::Reference(r) => pattern_names(&r.pat),
        Pat::Paren(p) => pattern_names(&p.pat),
        Pat::Tuple(t) => t.elems.iter().flat_map(pattern_names).collect(),
        Pat::TupleStruct(t) => t.elems.iter().flat_map(pattern_names).collect(),
        Pat::Slice(s) => s.elems.iter().flat_map(pattern_names).collect(),
        Pat::Struct(s) => s
            .fields
            .iter()
            .flat_map(|f| pattern_names(&f.pat))
            .collect(),
        _ => Vec::new(),
    }
}

fn scalar_type(ty: &Type, generics: &[Ident]) -> Option<Scalar> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let ident = &p.path.segments[0].ident;
    match ident.to_string().as_str() {
        "f64" => Some(Scalar::F64),
        "f32" => Some(Scalar::F32),
        _ if generics.contains(ident) => Some(Scalar::Generic(ident.clone())),
        _ => None,
    }
}

/// `Complex<f64>` or `Complex<f32>` by any path (`num_complex::Complex`,
/// `matgrad::nalgebra::Complex`): the real type of its parts.
fn complex_type(ty: &Type, generics: &[Ident]) -> Option<Scalar> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last().filter(|s| s.ident == "Complex")?;
    match &seg.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            GenericArgument::Type(t) => scalar_type(t, generics),
            _ => None,
        },
        _ => None,
    }
}

/// The shape of a parameter's float scalar, or nalgebra vector or matrix of
/// floats, and the real type of its entries if they are complex.
fn value_shape(
    ty: &Type,
    param: &Ident,
    generics: &[Ident],
    dims: &mut Dims,
) -> Result<(Shape, Option<Scalar>), String> {
    let param = param.to_string();
    field_shape(ty, generics, &mut |axis| {
        dims.fresh(Origin::Param {
            param: param.clone(),
            axis,
        })
    })
}

/// The shape of a float type (`f64`, `DMatrix<f64>`, `Matrix3<T>`, …, with any
/// reference removed), `fresh` making each dynamic dimension.
pub fn type_shape(
    ty: &Type,
    generics: &[Ident],
    fresh: &mut dyn FnMut(usize) -> Dim,
) -> Result<Shape, String> {
    match field_shape(ty, generics, fresh)? {
        (shape, None) => Ok(shape),
        (_, Some(_)) => Err(format!(
            "its type `{}` has complex entries, which are supported for the parameters of a loss only",
            crate::errors::show(ty)
        )),
    }
}

/// [`type_shape`] of real or complex entries (`Complex<f64>`,
/// `DMatrix<Complex<f32>>`), and the real type of complex ones.
fn field_shape(
    ty: &Type,
    generics: &[Ident],
    fresh: &mut dyn FnMut(usize) -> Dim,
) -> Result<(Shape, Option<Scalar>), String> {
    let ty = match ty {
        Type::Reference(r) => &*r.elem,
        ty => ty,
    };
    let shown = crate::errors::show(ty);
    // A name matgrad does not know, written without type arguments, may be an alias.
    let maybe_alias = matches!(ty, Type::Path(p) if p.path.get_ident().is_some_and(|i| {
        i.to_string().starts_with(|c: char| c.is_ascii_uppercase())
    }));
    let not_float = || {
        let alias = if maybe_alias {
            " (matgrad reads a parameter's type as written, so an alias is unknown to it: write the type out)"
        } else {
            ""
        };
        format!(
            "its type `{shown}` is not `f64`, `f32`, or a nalgebra vector or matrix of them{alias}"
        )
    };
    if scalar_type(ty, generics).is_some() {
        return Ok((Shape::Scalar, None));
    }
    if let Some(real) = complex_type(ty, generics) {
        return Ok((Shape::Scalar, Some(real)));
    }
    let Type::Path(p) = ty else {
        return Err(not_float());
    };
    let seg = p.path.segments.last().ok_or_else(not_float)?;
    let args: Vec<&GenericArgument> = match &seg.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().collect(),
        _ => Vec::new(),
    };
    let complex = match args.first() {
        Some(GenericArgument::Type(t)) if scalar_type(t, generics).is_some() => None,
        Some(GenericArgument::Type(t)) => Some(complex_type(t, generics).ok_or_else(not_float)?),
        _ => return Err(not_float()),
    };
    let name = seg.ident.to_string();
    let mut dynamic = |axis| fresh(axis);
    let fixed = |arg: Option<&&GenericArgument>| -> Option<Dim> {
        let GenericArgument::Const(syn::Expr::Lit(l)) = arg? else {
            return None;
        };
        let syn::Lit::Int(i) = &l.lit else {
            return None;
        };
        i.base10_parse().ok().map(Dim::Fixed)
    };
    // A dimension type argument of `OMatrix` / `OVector`: `Dyn`, `U3`, `Const<3>`.
    let mut dim_type = |arg: Option<&&GenericArgument>, axis| -> Option<Dim> {
        let GenericArgument::Type(Type::Path(p)) = arg? else {
            return None;
        };
        let seg = p.path.segments.last()?;
        let name = seg.ident.to_string();
        match (name.as_str(), &seg.arguments) {
            ("Dyn" | "Dynamic", PathArguments::None) => Some(dynamic(axis)),
            ("Const", PathArguments::AngleBracketed(a)) if a.args.len() == 1 => {
                fixed(a.args.first().as_ref())
            }
            (n, PathArguments::None) => n.strip_prefix('U')?.parse().ok().map(Dim::Fixed),
            _ => None,
        }
    };
    let (r, c) = match (name.as_str(), args.len()) {
        ("DMatrix", 1) => (dynamic(0), dynamic(1)),
        ("DVector", 1) => (dynamic(0), Dim::Fixed(1)),
        ("RowDVector", 1) => (Dim::Fixed(1), dynamic(1)),
        ("SMatrix", 3) => (
            fixed(args.get(1)).ok_or_else(not_float)?,
            fixed(args.get(2)).ok_or_else(not_float)?,
        ),
        ("SVector", 2) => (fixed(args.get(1)).ok_or_else(not_float)?, Dim::Fixed(1)),
        ("OMatrix", 3) => (
            dim_type(args.get(1), 0).ok_or_else(not_float)?,
            dim_type(args.get(2), 1).ok_or_else(not_float)?,
        ),
        ("OVector", 2) => (
            dim_type(args.get(1), 0).ok_or_else(not_float)?,
            Dim::Fixed(1),
        ),
        (_, 1) => match half_dynamic_alias(&name) {
            Some((Some(r), None)) => (Dim::Fixed(r), dynamic(1)),
            Some((None, Some(c))) => (dynamic(0), Dim::Fixed(c)),
            _ => alias_shape(&name).ok_or_else(not_float)?,
        },
        _ => return Err(not_float()),
    };
    Ok((Shape::Matrix(r, c), complex))
}

/// nalgebra's aliases with one dynamic dimension: `Matrix3xX` (3 rows),
/// `MatrixXx2` (2 columns).
pub(crate) fn half_dynamic_alias(name: &str) -> Option<(Option<usize>, Option<usize>)> {
    let digit = |s: &str| -> Option<usize> {
        let n: usize = s.parse().ok()?;
        (1..=6).contains(&n).then_some(n)
    };
    let rest = name.strip_prefix("Matrix")?;
    match rest.split_once('x')? {
        ("X", c) => Some((None, Some(digit(c)?))),
        (r, "X") => Some((Some(digit(r)?), None)),
        _ => None,
    }
}

/// nalgebra's static aliases: `Matrix3`, `Matrix2x3`, `Vector4`, `RowVector2`.
pub(crate) fn alias_shape(name: &str) -> Option<(Dim, Dim)> {
    let digit = |s: &str| -> Option<usize> {
        let n: usize = s.parse().ok()?;
        (1..=6).contains(&n).then_some(n)
    };
    let (r, c) = if let Some(rest) = name.strip_prefix("RowVector") {
        (1, digit(rest)?)
    } else if let Some(rest) = name.strip_prefix("Vector") {
        (digit(rest)?, 1)
    } else if let Some(rest) = name.strip_prefix("Matrix") {
        match rest.split_once('x') {
            Some((r, c)) => (digit(r)?, digit(c)?),
            None => (digit(rest)?, digit(rest)?),
        }
    } else {
        return None;
    };
    Some((Dim::Fixed(r), Dim::Fixed(c)))
}

/// `<name>_grad`, at the span of the user's name.
pub fn suffixed(ident: &Ident, suffix: &str) -> Ident {
    use syn::ext::IdentExt;
    Ident::new(&format!("{}_{suffix}", ident.unraw()), ident.span())
}
