//! The demo server's command line and environment (`docs/demo-server.md` "Process").

use std::time::Duration;

use clap::Parser;
use ignis_socketio_server::RateLimit;

/// How the demo server is configured: every flag has an environment variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "demo-server",
    version,
    // A repeated flag's last value wins (test drivers append flags to the
    // standard ones, e.g. the conformance suite's DEMO_SERVER_EXTRA_ARGS).
    args_override_self = true,
    about = "The Ignis Socket.IO demo server: authenticated Socket.IO on /io and a REST control plane on /api."
)]
pub struct DemoConfig {
    /// Port to listen on, on 127.0.0.1; 0 picks a free port.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    /// Socket.IO request path (namespace `/`).
    #[arg(long, env = "IO_PATH", default_value = "/io")]
    pub path: String,

    /// Redis URL, or comma-separated Redis Cluster node URLs: use the Redis adapter.
    /// Unset: the in-memory adapter (one node).
    #[arg(long, env = "REDIS_URL")]
    pub redis: Option<String>,

    /// Channel prefix on Redis (`key` of the Node adapter and emitter).
    #[arg(long, env = "REDIS_KEY", default_value = "socket.io")]
    pub redis_key: String,

    /// Accept a handshake only if header `authorization` is `Bearer <T>` or
    /// handshake `auth.token` is `<T>`. Unset: every handshake is accepted.
    #[arg(long, env = "AUTH_TOKEN")]
    pub auth_token: Option<String>,

    /// Require header `authorization: Bearer <T>` on the REST control plane
    /// (every `/api/socket/...` route but `/api/socket/health`). Unset: the
    /// REST plane is open to anyone who can reach the port.
    #[arg(long, env = "API_TOKEN")]
    pub api_token: Option<String>,

    /// Authentication window in milliseconds.
    #[arg(long, env = "AUTH_TIMEOUT_MS", default_value_t = 10_000)]
    pub auth_timeout_ms: u64,

    /// Period of the application `ping` event in milliseconds.
    #[arg(long, env = "PING_INTERVAL_MS", default_value_t = 30_000)]
    pub ping_interval_ms: u64,

    /// Application events one client may send: `BURST/PER_SECOND` (that
    /// many at once, then that many per second), or `off`.
    #[arg(long, env = "EVENT_RATE_LIMIT", default_value = "5000/2500", value_parser = parse_rate_limit)]
    pub event_rate_limit: RateSetting,

    /// The room validator keeps only requested rooms starting with this prefix; empty keeps all.
    #[arg(long, env = "ROOM_PREFIX", default_value = "")]
    pub room_prefix: String,

    /// Origins allowed to call the server from a browser with credentials
    /// (comma-separated). Unset: any origin, without credentials.
    #[arg(long, env = "CORS_ORIGIN", value_delimiter = ',')]
    pub cors_origin: Vec<String>,

    /// WebSocket per-message compression (permessage-deflate, RFC 7692) with
    /// the reference's settings (threshold 4096 bytes): `--per-message-deflate`
    /// or `=true` turns it on, `=false` off (the default, so the demo's wire
    /// and benchmarks stay as they were).
    #[arg(
        long,
        env = "PER_MESSAGE_DEFLATE",
        default_value_t = false,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub per_message_deflate: bool,
    /// Serve Prometheus metrics at GET /metrics (METRICS=1 also turns it on;
    /// 0, false, no, off or empty leave it off).
    #[arg(long, env = "METRICS", value_parser = clap::builder::FalseyValueParser::new())]
    pub metrics: bool,

    /// Serve the Socket.IO Admin UI's namespace `/admin` without a login,
    /// in development mode (every socket's handshake is shown): for a
    /// server only you can reach. See docs/operations.md.
    #[arg(long, env = "ADMIN_UI", value_parser = clap::builder::FalseyValueParser::new())]
    pub admin_ui: bool,

    /// Serve the Admin UI's namespace with a login `USER:PASSWORD` (the
    /// password is bcrypt-hashed at start-up and not kept).
    #[arg(long, env = "ADMIN_UI_AUTH", value_name = "USER:PASSWORD")]
    pub admin_ui_auth: Option<String>,

    /// The Admin UI may look but not change anything (no join, leave,
    /// disconnect or emit from the page).
    #[arg(long, env = "ADMIN_UI_READ_ONLY", value_parser = clap::builder::FalseyValueParser::new())]
    pub admin_ui_read_only: bool,
}

impl DemoConfig {
    /// The authentication window.
    pub fn auth_timeout(&self) -> Duration {
        Duration::from_millis(self.auth_timeout_ms)
    }

    /// The application ping period.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    /// The configured token, treating an empty value as unset.
    pub fn auth_token(&self) -> Option<&str> {
        self.auth_token.as_deref().filter(|t| !t.is_empty())
    }

    /// The REST plane's bearer token, if one is set (an empty value is none).
    pub fn api_token(&self) -> Option<&str> {
        self.api_token.as_deref().filter(|token| !token.is_empty())
    }

    /// The Admin UI login `(user, password)` of `--admin-ui-auth`; an error
    /// when it is not `USER:PASSWORD` with both parts non-empty.
    pub fn admin_ui_login(&self) -> Result<Option<(&str, &str)>, String> {
        let Some(raw) = self.admin_ui_auth.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        match raw.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                Ok(Some((user, password)))
            }
            _ => Err("--admin-ui-auth takes USER:PASSWORD".to_owned()),
        }
    }

    /// Whether the Admin UI's namespace is served.
    pub fn admin_ui_enabled(&self) -> bool {
        self.admin_ui || self.admin_ui_auth.as_deref().is_some_and(|a| !a.is_empty())
    }

    /// The Redis URLs, treating an empty value as unset.
    pub fn redis_urls(&self) -> Option<Vec<String>> {
        let raw = self.redis.as_deref()?.trim();
        if raw.is_empty() {
            return None;
        }
        Some(
            raw.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

/// A rate limit from the command line, `None` for `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSetting(pub Option<RateLimit>);

fn parse_rate_limit(text: &str) -> Result<RateSetting, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(RateSetting(None));
    }
    let number = |part: &str| {
        part.trim()
            .parse::<u32>()
            .map_err(|e| format!("{part:?}: {e}"))
    };
    match text.split_once('/') {
        Some((burst, rate)) => Ok(RateSetting(Some(RateLimit::new(
            number(burst)?,
            number(rate)?,
        )))),
        None => Err(format!("expected BURST/PER_SECOND or off, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_split_on_commas_and_empty_values_mean_unset() {
        let c = DemoConfig::try_parse_from([
            "demo-server",
            "--port",
            "0",
            "--redis",
            "redis://a:1, redis://b:2",
            "--auth-token",
            "",
        ])
        .unwrap();
        assert_eq!(c.port, 0);
        assert_eq!(c.redis_urls().unwrap(), ["redis://a:1", "redis://b:2"]);
        assert_eq!(c.auth_token(), None);
    }

    #[test]
    fn per_message_deflate_is_off_unless_asked_for() {
        let parse = |args: &[&str]| {
            DemoConfig::try_parse_from([&["demo-server"], args].concat())
                .unwrap()
                .per_message_deflate
        };
        assert!(!parse(&[]));
        assert!(parse(&["--per-message-deflate"]));
        assert!(parse(&["--per-message-deflate=true"]));
        assert!(!parse(&[
            "--per-message-deflate",
            "--per-message-deflate=false"
        ]));
    }

    #[test]
    fn the_event_rate_limit_is_burst_per_second_or_off() {
        let parse = |args: &[&str]| {
            DemoConfig::try_parse_from([&["demo-server"], args].concat())
                .map(|c| c.event_rate_limit.0)
        };
        assert_eq!(parse(&[]).unwrap(), Some(RateLimit::new(5_000, 2_500)));
        assert_eq!(
            parse(&["--event-rate-limit", "20/5"]).unwrap(),
            Some(RateLimit::new(20, 5))
        );
        assert_eq!(parse(&["--event-rate-limit", "off"]).unwrap(), None);
        assert!(parse(&["--event-rate-limit", "20"]).is_err());
        assert!(parse(&["--event-rate-limit", "a/5"]).is_err());
    }

    #[test]
    fn metrics_are_off_unless_asked_for() {
        let off = DemoConfig::try_parse_from(["demo-server"]).unwrap();
        assert!(!off.metrics);
        let on = DemoConfig::try_parse_from(["demo-server", "--metrics"]).unwrap();
        assert!(on.metrics);
    }

    #[test]
    fn the_admin_ui_is_off_unless_asked_for_and_its_login_is_checked() {
        let off = DemoConfig::try_parse_from(["demo-server"]).unwrap();
        assert!(!off.admin_ui_enabled());
        let open = DemoConfig::try_parse_from(["demo-server", "--admin-ui"]).unwrap();
        assert!(open.admin_ui_enabled());
        assert_eq!(open.admin_ui_login(), Ok(None));
        let login =
            DemoConfig::try_parse_from(["demo-server", "--admin-ui-auth", "admin:s:cret"]).unwrap();
        assert!(login.admin_ui_enabled());
        assert_eq!(login.admin_ui_login(), Ok(Some(("admin", "s:cret"))));
        let bad = DemoConfig::try_parse_from(["demo-server", "--admin-ui-auth", "admin"]).unwrap();
        assert!(bad.admin_ui_login().is_err());
    }

    #[test]
    fn a_repeated_flag_takes_its_last_value() {
        let c = DemoConfig::try_parse_from([
            "demo-server",
            "--redis-key",
            "first",
            "--port",
            "1",
            "--redis-key",
            "second",
            "--port",
            "0",
        ])
        .unwrap();
        assert_eq!(c.redis_key, "second");
        assert_eq!(c.port, 0);
    }
}
