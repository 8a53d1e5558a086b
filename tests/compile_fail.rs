//! `#[model]` rejects everything outside the model language with an error at the offending
//! span; one case per rejection class, with the expected messages in `tests/ui/*.stderr`.

#[test]
fn model_language_rejections() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
