//! The error of an option that cannot be used, shared by every options check
//! (the overlay, CORS, the operations endpoints).

/// An option that cannot be used, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct OptionsError {
    /// The field, e.g. `cors.origins`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl OptionsError {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        OptionsError {
            field,
            reason: reason.into(),
        }
    }
}
