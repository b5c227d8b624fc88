//! The Ignis application container and `SocketIOComponent`, for Rust.

mod application;
mod component;
mod container;
mod error;
mod keys;
mod options;
mod socket_io;

pub use application::{Application, DEFAULT_ADDR, DEFAULT_STOP_TIMEOUT, RunningApplication};
pub use component::{BindingContext, Component, HookContext};
pub use container::{Binder, BindingKey, Container, ContainerError};
pub use error::{BoxError, ComponentError, LifecyclePhase};
pub use keys::{AuthenticateFn, ClientConnectedFn, SocketIOBindingKeys, ValidateRoomFn};
pub use options::{
    CorsOptions, CorsOrigins, DEFAULT_DEFLATE_THRESHOLD, DEFAULT_PREFLIGHT_STATUS, OptionsError,
    PerMessageDeflateOptions, ResolvedCors, ResolvedDeflate, ResolvedServerOptions,
    RoomLimitsOptions, ServerOptions,
};
pub use socket_io::{COMPONENT_NAME, SocketIOComponent};
