//! The project's pipelines.
fn main() {}
