//! CORS settings of the Socket.IO endpoint: the partial value and its
//! checked form.

use std::time::Duration;

use super::error::OptionsError;

/// Default status answered to a CORS preflight request.
pub const DEFAULT_PREFLIGHT_STATUS: u16 = 204;

/// Which origins may call the Socket.IO endpoint from a browser: the
/// server helper's type, used for CORS and for the `Origin` check alike.
pub use ignis_socketio_server::CorsOrigins;

/// CORS settings of the Socket.IO endpoint; unset fields keep their defaults.
///
/// Applied to the Socket.IO path only, never to the application's own routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOptions {
    /// Allowed origins; default [`CorsOrigins::SameOrigin`].
    pub origins: Option<CorsOrigins>,
    /// Allowed methods; default `GET` and `POST`.
    pub methods: Option<Vec<String>>,
    /// Whether cookies and credentials are allowed; default `true`.
    pub credentials: Option<bool>,
    /// Status answered to a preflight; default 204.
    pub options_success_status: Option<u16>,
    /// Request headers allowed cross-origin; default: those the request asks for.
    pub allowed_headers: Option<Vec<String>>,
    /// How long a browser may cache a preflight answer; default: not sent.
    pub max_age: Option<Duration>,
    /// Development switch: allow [`CorsOrigins::Any`] with credentials (the
    /// reference's default, unsafe in production); default `false`.
    pub allow_any_origin_with_credentials_in_development: Option<bool>,
    /// Refuse (403) Socket.IO requests whose `Origin` header is neither an
    /// allowed origin nor the server's own; default `true`. WebSockets are
    /// not subject to CORS, so without this a page of any site could open a
    /// WebSocket with the user's cookies (cross-site WebSocket hijacking).
    /// Requests without `Origin` (non-browser clients) are never refused.
    pub enforce_origin: Option<bool>,
}

impl CorsOptions {
    /// Allows exactly these origins.
    pub fn allow_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.origins = Some(CorsOrigins::List(
            origins.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Allows any origin (see [`CorsOrigins::Any`]).
    pub fn allow_any_origin(mut self) -> Self {
        self.origins = Some(CorsOrigins::Any);
        self
    }

    /// Sets the allowed methods.
    pub fn methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.methods = Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Sets whether credentials are allowed.
    pub fn credentials(mut self, credentials: bool) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets the status answered to a preflight.
    pub fn options_success_status(mut self, status: u16) -> Self {
        self.options_success_status = Some(status);
        self
    }

    /// Sets the allowed request headers.
    pub fn allowed_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_headers = Some(headers.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the preflight cache duration.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Development switch: allow any origin together with credentials.
    pub fn allow_any_origin_with_credentials_in_development(mut self, allow: bool) -> Self {
        self.allow_any_origin_with_credentials_in_development = Some(allow);
        self
    }

    /// Sets whether foreign origins are refused (see [`CorsOptions::enforce_origin`]).
    pub fn enforce_origin(mut self, enforce: bool) -> Self {
        self.enforce_origin = Some(enforce);
        self
    }

    /// `over`'s set fields win, the others are kept.
    pub fn merge(self, over: CorsOptions) -> CorsOptions {
        CorsOptions {
            origins: over.origins.or(self.origins),
            methods: over.methods.or(self.methods),
            credentials: over.credentials.or(self.credentials),
            options_success_status: over.options_success_status.or(self.options_success_status),
            allowed_headers: over.allowed_headers.or(self.allowed_headers),
            max_age: over.max_age.or(self.max_age),
            allow_any_origin_with_credentials_in_development: over
                .allow_any_origin_with_credentials_in_development
                .or(self.allow_any_origin_with_credentials_in_development),
            enforce_origin: over.enforce_origin.or(self.enforce_origin),
        }
    }
}

/// CORS after merging and checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCors {
    /// Allowed origins.
    pub origins: CorsOrigins,
    /// Allowed methods, upper case.
    pub methods: Vec<String>,
    /// Whether credentials are allowed.
    pub credentials: bool,
    /// Status answered to a preflight.
    pub options_success_status: u16,
    /// Allowed request headers; `None` mirrors the request's.
    pub allowed_headers: Option<Vec<String>>,
    /// Preflight cache duration.
    pub max_age: Option<Duration>,
    /// Whether any origin is mirrored with credentials (development only).
    pub mirror_any_origin: bool,
    /// Whether requests from foreign origins are refused.
    pub enforce_origin: bool,
}

pub(super) fn resolve_cors(cors: CorsOptions) -> Result<ResolvedCors, OptionsError> {
    let origins = cors.origins.unwrap_or(CorsOrigins::SameOrigin);
    let credentials = cors.credentials.unwrap_or(true);
    let development = cors
        .allow_any_origin_with_credentials_in_development
        .unwrap_or(false);
    let mirror_any_origin = origins == CorsOrigins::Any && credentials;
    if mirror_any_origin && !development {
        return Err(OptionsError::new(
            "cors.origins",
            "any origin together with credentials is refused: list the allowed origins, \
             disable credentials, or set cors.allow_any_origin_with_credentials_in_development \
             (development only)",
        ));
    }
    origins
        .check()
        .map_err(|reason| OptionsError::new("cors.origins", reason))?;
    let methods: Vec<String> = cors
        .methods
        .unwrap_or_default()
        .into_iter()
        .map(|m| m.to_ascii_uppercase())
        .collect();
    if let Some(bad) = methods
        .iter()
        .find(|m| m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(OptionsError::new(
            "cors.methods",
            format!("{bad:?} is not an HTTP method"),
        ));
    }
    let options_success_status = cors
        .options_success_status
        .unwrap_or(DEFAULT_PREFLIGHT_STATUS);
    if !(200..300).contains(&options_success_status) {
        return Err(OptionsError::new(
            "cors.options_success_status",
            format!("must be a 2xx status, got {options_success_status}"),
        ));
    }
    if let Some(bad) = cors
        .allowed_headers
        .iter()
        .flatten()
        .find(|h| h.is_empty() || http_header_invalid(h))
    {
        return Err(OptionsError::new(
            "cors.allowed_headers",
            format!("{bad:?} is not a header name"),
        ));
    }
    Ok(ResolvedCors {
        origins,
        methods,
        credentials,
        options_success_status,
        allowed_headers: cors.allowed_headers,
        max_age: cors.max_age,
        mirror_any_origin,
        enforce_origin: cors.enforce_origin.unwrap_or(true),
    })
}

// Origins and header names end up in response headers; refuse what a header
// value cannot carry rather than failing later.
fn http_header_invalid(value: &str) -> bool {
    value.bytes().any(|b| b < 0x21 || b == 0x7f || b == b',')
}
