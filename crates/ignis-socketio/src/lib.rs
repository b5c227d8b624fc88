//! Facade crate: filled by the component issue.
