//! Load generator: filled by the benchmark issue.
