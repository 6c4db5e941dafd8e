//! Request handlers, one module per area of the API.
pub(crate) mod attachments;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod calendar;
pub(crate) mod cases;
pub(crate) mod catalogue;
pub(crate) mod components;
pub(crate) mod evaluation;
pub(crate) mod geo;
pub(crate) mod inbox;
pub(crate) mod org;
pub mod public;
pub(crate) mod reports;
pub(crate) mod reviews;
pub(crate) mod routing;
pub(crate) mod sessions;
pub(crate) mod system;
