//! The same cases as the `table` binary, under criterion (statistics, HTML reports in
//! `target/criterion/`): `cargo bench -p matgrad-bench --features peers [-- FILTER]`, e.g. `-- quadform/matgrad`.
//!
//! Benchmark ids are `CASE/IMPLEMENTATION/SIZE`. Every case is checked against the hand-written
//! gradient before it is measured.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use matgrad_bench::{all_cases, Sizes};

fn gradients(c: &mut Criterion) {
    for case in all_cases(Sizes::All) {
        if let Err(e) = case.check() {
            panic!("not benchmarking a wrong implementation: {e}");
        }
        let mut group = c.benchmark_group(case.case);
        group
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(20);
        for entry in &case.entries {
            group.bench_function(BenchmarkId::new(entry.imp.name(), &case.size), |b| {
                b.iter_custom(|iters| entry.run(iters))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, gradients);
criterion_main!(benches);
