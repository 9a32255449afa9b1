//! Every implementation of every case agrees with the hand-written gradient (relative error
//! ≤ 1e-6, finite differences ≤ 1e-5), at the smallest sizes so that the suite stays quick. The
//! table binary runs the same check at every size before it times anything.

use matgrad::nalgebra::DVector;
use matgrad_bench::{all_cases, gauss_nll, Case, Impl, Sizes};

#[test]
fn every_implementation_matches_the_hand_written_gradient() {
    let cases = all_cases(Sizes::Smallest);
    let failures: Vec<String> = cases.iter().filter_map(|c| c.check().err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_case_has_every_implementation_at_its_smallest_size() {
    for case in all_cases(Sizes::Smallest) {
        for imp in Impl::ALL.into_iter().filter(|imp| imp.is_built()) {
            if imp == Impl::FiniteDiff && !case.skipped.is_empty() {
                continue; // the extra dynamic instances of the fixed-size cases
            }
            if imp == Impl::HandLoop {
                continue; // only the losses written as loops have it
            }
            assert!(
                case.entry(imp).is_some(),
                "{} {} has no {}",
                case.case,
                case.size,
                imp.name()
            );
        }
    }
}

#[test]
fn the_losses_written_as_loops_have_a_hand_written_loop_gradient() {
    for case in all_cases(Sizes::Smallest) {
        let written_as_loops = matches!(case.case, "logreg_loop" | "huber_loop" | "softmax_ce");
        assert_eq!(
            case.entry(Impl::HandLoop).is_some(),
            written_as_loops,
            "{} {}",
            case.case,
            case.size
        );
    }
}

#[test]
fn the_other_3x3_forms_agree_with_the_closed_form() {
    gauss_nll::forms3_case().check().unwrap();
}

#[test]
fn a_wrong_gradient_is_caught() {
    let w = DVector::from_vec(vec![1.0, 2.0]);
    let w2 = w.clone();
    let case = Case::new("test", "2")
        .with(Impl::Hand, move || (w.norm_squared(), &w * 2.0))
        .with(Impl::Matgrad, move || (w2.norm_squared(), &w2 * 2.00001));
    let err = case.check().unwrap_err();
    assert!(err.contains("matgrad: gradient relative error"), "{err}");
}

#[test]
fn timing_runs() {
    let case = &all_cases(Sizes::Smallest)[0];
    let timing = matgrad_bench::harness::Timing {
        warm_up: std::time::Duration::from_millis(1),
        batch: std::time::Duration::from_micros(200),
        batches: 3,
        budget: std::time::Duration::from_millis(10),
    };
    let ns = matgrad_bench::harness::time_case(case, &timing);
    assert_eq!(ns.len(), case.entries.len());
    assert!(ns.iter().all(|t| t.is_finite() && *t > 0.0), "{ns:?}");
}

#[test]
fn the_alternative_hand_written_forms_agree() {
    matgrad_bench::logreg_loop::forms_case().check().unwrap();
    matgrad_bench::huber_loop::forms_case().check().unwrap();
    matgrad_bench::rnn::forms_case().check().unwrap();
}

#[test]
fn the_gram_matrix_by_halves_is_the_whole_product() {
    use matgrad::nalgebra::DMatrix;
    // Past the side computed whole (64), odd halves, two levels.
    for n in [40, 65, 97, 200] {
        let x = DMatrix::from_fn(n, n, |i, j| {
            if i < j {
                0.0
            } else {
                ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.4
            }
        });
        let want = x.tr_mul(&x);
        let err = (matgrad_bench::linalg::lower_gram(&x) - &want).amax();
        assert!(err <= 1e-12 * want.amax(), "n = {n}: off by {err:e}");
    }
}
