//! Free local ports.

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An `http://` URL where nothing listens (async, for use where a test
/// would otherwise bind a Tokio listener).
pub async fn dead_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}
