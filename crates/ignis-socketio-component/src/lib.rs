//! The Ignis application container and `SocketIOComponent`, for Rust.

mod application;
mod component;
mod container;
mod error;
mod listener;
mod options;

pub use application::{Application, DEFAULT_ADDR, DEFAULT_STOP_TIMEOUT, RunningApplication};
pub use component::{BindingContext, Component, HookContext};
pub use container::{Binder, BindingKey, Container, ContainerError};
pub use error::{BoxError, ComponentError, LifecyclePhase};
pub use options::{
    CorsOptions, CorsOrigins, DEFAULT_AUTH_TIMEOUT, DEFAULT_DEFLATE_THRESHOLD, DEFAULT_IDENTIFIER,
    DEFAULT_MAX_PAYLOAD, DEFAULT_PATH, DEFAULT_PING_INTERVAL, DEFAULT_PREFLIGHT_STATUS,
    OptionsError, PerMessageDeflateOptions, ResolvedCors, ResolvedDeflate, ResolvedServerOptions,
    RoomLimitsOptions, ServerOptions,
};
