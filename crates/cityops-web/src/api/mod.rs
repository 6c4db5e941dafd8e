//! Request handlers, one module per area of the API.
pub(crate) mod auth;
pub(crate) mod catalogue;
pub(crate) mod components;
pub(crate) mod geo;
pub(crate) mod org;
pub(crate) mod system;
