//! CORS for the REST routes and the Socket.IO endpoint (SPEC 6): methods GET
//! and POST, preflights answered 204, and never "any origin with credentials".

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

/// Any origin without credentials when `origins` is empty (the development
/// default, safe because no cookie is honoured); otherwise exactly those
/// origins, with credentials.
pub fn cors_layer(origins: &[String]) -> Result<CorsLayer, String> {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    if origins.is_empty() {
        return Ok(layer.allow_origin(Any));
    }
    let allowed = origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o.trim()).map_err(|e| format!("invalid CORS origin {o:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(layer
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true))
}

/// Middleware: tower-http answers preflights with 200; the reference answers 204.
pub async fn preflight_no_content(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = next.run(request).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}
