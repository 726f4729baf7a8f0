//! The engines behind [`crate::Model`], one module per cargo feature.

#[cfg(feature = "tract")]
pub(crate) mod tract;
