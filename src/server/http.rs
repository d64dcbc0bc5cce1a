//! The browser's edge: sign-in forms, the embedding settings' forms, the embeddable usage
//! view, the middleware every request passes (limits, body
//! size, time-out, headers) and server-function helpers. Imports `rest` (its error shapes
//! and extractors), the capabilities and `state`; never `process`.

pub mod browser;
pub mod embed;
pub mod embedding;
pub mod headers;
pub mod middleware;
pub mod server_fn;
