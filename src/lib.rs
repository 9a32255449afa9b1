//! Integration tests and examples of matgrad live in `tests/` and `examples/`.
