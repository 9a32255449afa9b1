//! Scoping and mutation as Rust has them: names shadowed inside a loop or a
//! branch, a loop variable shadowing an outer name, copies taken before a
//! write or a compound assignment, a closure reading a name shadowed after it,
//! values swapped through a loop, entries written from other entries. Each
//! generated value equals the function's and each gradient matches central
//! differences.

#[macro_use]
mod common;

use matgrad::grad;
use matgrad::nalgebra::DVector;

#[grad(x)]
fn shadow_in_loop(x: &DVector<f64>) -> f64 {
    let mut s = 0.0;
    let w = x.clone();
    for _ in 0..3 {
        let w = &w * 2.0;
        s += w.sum();
    }
    s + w.norm_squared()
}

#[grad(x)]
fn shadow_in_branch(x: &DVector<f64>) -> f64 {
    let w = x.clone();
    let t = if x[0] > 0.0 {
        let w = &w * 3.0;
        w.norm_squared()
    } else {
        w.sum()
    };
    t + w.norm_squared()
}

#[grad(x)]
fn loop_var_shadows(x: &DVector<f64>) -> f64 {
    let i = 2.0;
    let mut s = 0.0;
    for i in 0..3 {
        s += x[i] * x[i];
    }
    s * i
}

#[allow(clippy::assign_op_pattern)] // the assignment form is what is read here
#[grad(x)]
fn branch_assign(x: &DVector<f64>) -> f64 {
    let mut s = x.norm_squared();
    if s > 1.0 {
        s = s * 2.0;
    }
    s
}

#[grad(x)]
fn copy_then_write(x: &DVector<f64>) -> f64 {
    let mut w = x.clone();
    let a = w.clone();
    w[0] = 5.0 * w[1];
    a.norm_squared() + w.norm_squared()
}

#[grad(x)]
fn copy_then_compound(x: &DVector<f64>) -> f64 {
    let mut w = x.clone();
    let a = w.clone();
    w *= 2.0;
    w += &a;
    a.norm_squared() + w.dot(&a)
}

#[grad(x)]
fn closure_then_shadow(x: &DVector<f64>) -> f64 {
    let k = 2.0;
    let m = x.map(|v| (v * k).sin());
    let k = 3.0;
    m.sum() * k
}

#[grad(x)]
fn squares_in_place(x: &DVector<f64>) -> f64 {
    let mut w = x.clone();
    for i in 0..w.len() {
        w[i] = w[i] * w[i] + w[(i + 1) % 3];
    }
    w.sum()
}

#[grad(x)]
fn nested_reset(x: &DVector<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let mut t = 0.0;
        for j in 0..=i {
            t += x[j] * x[i];
        }
        s += t * t;
    }
    s
}

#[grad(x)]
fn carried_swap(x: &DVector<f64>) -> f64 {
    let mut a = x[0];
    let mut b = x[1];
    for _ in 0..4 {
        let t = a;
        a = b;
        b = t * b + 0.1;
    }
    a * 3.0 + b
}

#[grad(x)]
fn assign_from_old_self(x: &DVector<f64>) -> f64 {
    let mut w = x.clone();
    w = &w * 2.0 + &w;
    let mut s = w.sum();
    s = s * s - s;
    s
}

#[grad(x)]
fn reverse_range(x: &DVector<f64>) -> f64 {
    let mut s = 1.0;
    for i in (0..3).rev() {
        s = s * 0.5 + x[i] * s;
    }
    s
}

#[grad(x)]
fn write_entries_from_others(x: &DVector<f64>) -> f64 {
    let mut w = x.clone();
    let old = w[0];
    w[0] = w[2];
    w[2] = old * w[1];
    w[0] * 2.0 + w[2] * 3.0 + w[1]
}

#[test]
fn values_and_gradients_follow_rusts_scoping() {
    let x = DVector::from_vec(vec![0.7, -0.4, 1.3]);
    check!(shadow_in_loop(&x) => shadow_in_loop_grad[x]);
    check!(shadow_in_branch(&x) => shadow_in_branch_grad[x]);
    check!(loop_var_shadows(&x) => loop_var_shadows_grad[x]);
    check!(branch_assign(&x) => branch_assign_grad[x]);
    check!(copy_then_write(&x) => copy_then_write_grad[x]);
    check!(copy_then_compound(&x) => copy_then_compound_grad[x]);
    check!(closure_then_shadow(&x) => closure_then_shadow_grad[x]);
    check!(squares_in_place(&x) => squares_in_place_grad[x]);
    check!(nested_reset(&x) => nested_reset_grad[x]);
    check!(carried_swap(&x) => carried_swap_grad[x]);
    check!(assign_from_old_self(&x) => assign_from_old_self_grad[x]);
    check!(reverse_range(&x) => reverse_range_grad[x]);
    check!(write_entries_from_others(&x) => write_entries_from_others_grad[x]);
}
