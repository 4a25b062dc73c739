//! Engine tests: the shipped schemes' own cases, and the invariants of ranking.

use super::*;
use crate::scheme::{SchemeLibrary, cases::run_cases};

#[test]
fn every_shipped_scheme_passes_its_own_cases() {
    let lib = SchemeLibrary::builtin().expect("shipped schemes load");
    let mut ran = 0;
    for scheme in lib.all() {
        assert!(!scheme.tests.is_empty(), "{} carries no test case", scheme.id());
        for outcome in run_cases(scheme) {
            ran += 1;
            assert!(outcome.passed(), "{} / {}: {:#?}", outcome.scheme, outcome.case, outcome.failures);
        }
    }
    assert!(ran >= 3);
}

#[test]
fn competition_ranks() {
    assert_eq!(ranks_of(&[5.0, 7.0, 7.0, 1.0]), vec![3, 1, 1, 4]);
    assert_eq!(ranks_of(&[]), Vec::<u32>::new());
}
