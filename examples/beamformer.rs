//! A complex beamformer for a uniform linear array, fitted to pilot symbols by gradient descent,
//! then the direction and complex amplitude of a source found by Newton's method: complex
//! parameters, and real and complex parameters together.
//!
//! Run with `cargo run --release --example beamformer`.
//!
//! Eight sensors half a wavelength apart see a source at `θ` through the steering vector
//! `a(θ)ₖ = exp(i π k sin θ)`. Snapshots `X` (8 × 200) carry QPSK pilots `d` from 20°, two
//! stronger interferers from −35° and 50°, and noise. The beamformer `w ∈ ℂ⁸` outputs `wᴴ X`;
//!
//! ```text
//! L(w) = ‖wᴴ X − d‖² / T,        ∇L = 2 X (Xᴴ w − dᴴ) / T,
//! ```
//!
//! in matgrad's convention (`∂L/∂Re w + i ∂L/∂Im w`, so `w ← w − η ∇L` descends), is minimised
//! by the Wiener solution `(X Xᴴ) w = X dᴴ`. This example
//!
//! 1. writes `L` in plain nalgebra over `DVector<Complex<f64>>` and lets `#[grad(w)]` derive the
//!    gradient, and checks it against central differences in the real and imaginary parts;
//! 2. runs gradient descent from `w = 0` with Barzilai–Borwein steps `⟨Δw, Δw⟩ / ⟨Δw, Δ∇L⟩`
//!    (`⟨u, v⟩ = Re uᴴv`, the inner product of the real coordinates), and compares the result
//!    with the Wiener solution and its beam pattern (unit gain towards the source, deep nulls
//!    towards the interferers);
//! 3. writes the fit of one snapshot `y ≈ a(θ) s`, `‖y − a(θ) s‖²`, in the real direction `θ` and
//!    the complex amplitude `s` together, and refines a coarse scan of `θ` by Newton's method on
//!    the `#[hessian(theta, s)]`-generated Hessian over `(θ, Re s, Im s)`.
//!
//! The program exits with an error if a check fails.

use std::f64::consts::PI;

use matgrad::nalgebra::{Complex, DMatrix, DVector, Matrix3, RowDVector, Vector3};
use matgrad::{check_gradient, grad, hessian};

mod support;
use support::Rng;

/// Mean squared error between the beamformer's output `wᴴ X` and the pilots `d`.
#[grad(w)]
fn pilot_error(
    w: &DVector<Complex<f64>>,
    x: &DMatrix<Complex<f64>>,
    d: &RowDVector<Complex<f64>>,
    t: f64,
) -> f64 {
    (w.adjoint() * x - d).norm_squared() / t
}

/// The misfit of one snapshot `y` by a plane wave from `theta` of complex amplitude `s`, the
/// steering vector built from the sensor positions `k` (in half wavelengths).
#[hessian(theta, s)]
fn plane_wave_misfit(
    theta: f64,
    s: Complex<f64>,
    y: &DVector<Complex<f64>>,
    k: &DVector<f64>,
) -> f64 {
    let phases = k * (std::f64::consts::PI * theta.sin());
    let a = phases.map(|p| Complex::new(p.cos(), p.sin()));
    (y - a * s).norm_squared()
}

/// `a(θ)`, the response of the array to a plane wave from `θ`.
fn steering(k: &DVector<f64>, theta: f64) -> DVector<Complex<f64>> {
    k.map(|k| Complex::from_polar(1.0, PI * k * theta.sin()))
}

fn degrees(d: f64) -> f64 {
    d * PI / 180.0
}

/// `|wᴴ a(θ)|²` in decibels.
fn gain_db(w: &DVector<Complex<f64>>, k: &DVector<f64>, theta: f64) -> f64 {
    10.0 * w.dotc(&steering(k, theta)).norm_sqr().log10()
}

fn main() -> Result<(), String> {
    const SENSORS: usize = 8;
    const SNAPSHOTS: usize = 200;
    let k = DVector::from_fn(SENSORS, |i, _| i as f64);
    let (source, interferers) = (degrees(20.0), [(degrees(-35.0), 3.0), (degrees(50.0), 2.0)]);

    // Pilots (QPSK), interferers (complex Gaussian, stronger than the source) and noise.
    let mut rng = Rng::new(7);
    let mut gaussian =
        |scale: f64| Complex::new(rng.gaussian(), rng.gaussian()) * (scale / 2f64.sqrt());
    let d = RowDVector::from_fn(SNAPSHOTS, |_, t| {
        Complex::from_polar(1.0, PI / 4.0 + PI / 2.0 * ((t * 7 + t / 3) % 4) as f64)
    });
    let mut x = steering(&k, source) * &d;
    for (theta, amplitude) in interferers {
        let u = RowDVector::from_fn(SNAPSHOTS, |_, _| gaussian(amplitude));
        x += steering(&k, theta) * u;
    }
    x += DMatrix::from_fn(SENSORS, SNAPSHOTS, |_, _| gaussian(0.1));
    let t = SNAPSHOTS as f64;

    // 1. The generated gradient against central differences in each real coordinate.
    let w0 = DVector::from_fn(SENSORS, |i, _| Complex::new(0.1 * i as f64, -0.05));
    let (_, g0) = pilot_error_grad(&w0, &x, &d, t);
    let report = check_gradient(|w| pilot_error(w, &x, &d, t), &w0, &g0);
    println!("gradient check: {report}");
    if !report.is_within(1e-6) {
        return Err(format!(
            "the gradient does not match central differences: {report}"
        ));
    }

    // 2. Gradient descent with Barzilai–Borwein steps, the first 1/λ_max (λ_max the largest
    //    eigenvalue of the quadratic's Hessian 2 X Xᴴ / T, on the real coordinates).
    let r = &x * x.adjoint() / Complex::new(t, 0.0);
    let mut step = 1.0 / (2.0 * r.clone().symmetric_eigenvalues().max());
    let mut w = DVector::<Complex<f64>>::zeros(SENSORS);
    let (mut loss, mut g) = pilot_error_grad(&w, &x, &d, t);
    println!("\ngradient descent on ‖wᴴX − d‖²/T with Barzilai–Borwein steps");
    println!("  step   0: loss {loss:.8}, ‖∇L‖ {:.2e}", g.norm());
    for iteration in 1..=200 {
        let w_next = &w - g.scale(step);
        let (loss_next, g_next) = pilot_error_grad(&w_next, &x, &d, t);
        let (dw, dg) = (&w_next - &w, &g_next - &g);
        step = dw.norm_squared() / dw.dotc(&dg).re;
        (w, loss, g) = (w_next, loss_next, g_next);
        let done = g.norm() < 1e-10;
        if iteration % 20 == 0 || done {
            println!(
                "  step {iteration:>3}: loss {loss:.8}, ‖∇L‖ {:.2e}",
                g.norm()
            );
        }
        if done {
            break;
        }
    }
    let wiener = r
        .clone()
        .lu()
        .solve(&(&x * d.adjoint() / Complex::new(t, 0.0)))
        .ok_or("X Xᴴ is singular")?;
    let distance = (&w - &wiener).norm() / wiener.norm();
    println!("  relative distance to the Wiener solution: {distance:.2e}");
    println!(
        "  beam pattern: {:+.2} dB towards the source, {:+.1} dB and {:+.1} dB towards the interferers",
        gain_db(&w, &k, source),
        gain_db(&w, &k, interferers[0].0),
        gain_db(&w, &k, interferers[1].0),
    );
    if distance > 1e-6 {
        return Err(format!(
            "gradient descent stopped {distance:e} from the Wiener solution"
        ));
    }
    if gain_db(&w, &k, source).abs() > 0.5
        || interferers
            .iter()
            .any(|&(th, _)| gain_db(&w, &k, th) > -20.0)
    {
        return Err("the beam pattern does not point at the source".to_owned());
    }

    // 3. Direction and amplitude of the source from one beamformed snapshot of the source alone
    //    (the interferers removed by the fitted beamformer would be; here, a fresh snapshot).
    let s_true = Complex::from_polar(1.3, 0.7);
    let y = steering(&k, source) * s_true + DVector::from_fn(SENSORS, |_, _| gaussian(0.05));
    // A coarse scan of θ, with the best amplitude for each, a(θ)ᴴ y / ‖a‖².
    let (mut theta, mut best) = (0.0, f64::INFINITY);
    for step in -80..=80 {
        let th = degrees(step as f64);
        let a = steering(&k, th);
        let s = a.dotc(&y) / Complex::new(SENSORS as f64, 0.0);
        let misfit = plane_wave_misfit(th, s, &y, &k);
        if misfit < best {
            (theta, best) = (th, misfit);
        }
    }
    let mut s = steering(&k, theta).dotc(&y) / Complex::new(SENSORS as f64, 0.0);
    println!(
        "\nNewton's method on ‖y − a(θ) s‖² over (θ, Re s, Im s), from the scan's {:.1}°",
        theta * 180.0 / PI
    );
    for step in 0..8 {
        let (misfit, g_theta, g_s, h) = plane_wave_misfit_hessian(theta, s, &y, &k);
        let g = Vector3::new(g_theta, g_s.re, g_s.im);
        println!(
            "  step {step}: misfit {misfit:.6}, ‖∇‖ {:.2e}, θ = {:.5}°",
            g.norm(),
            theta * 180.0 / PI
        );
        if g.norm() < 1e-10 {
            break;
        }
        let h: Matrix3<f64> = h;
        let delta = h.lu().solve(&g).ok_or("singular Hessian")?;
        theta -= delta[0];
        s -= Complex::new(delta[1], delta[2]);
    }
    println!(
        "  found θ = {:.3}° (true 20°), s = {:.4} (true {:.4})",
        theta * 180.0 / PI,
        s,
        s_true
    );
    if (theta - source).abs() > degrees(0.5) || (s - s_true).norm() > 0.1 {
        return Err("Newton's method did not find the source".to_owned());
    }
    Ok(())
}
