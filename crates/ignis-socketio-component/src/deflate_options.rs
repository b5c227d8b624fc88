//! The reference's `perMessageDeflate` server option: WebSocket per-message
//! compression (RFC 7692), its names and defaults, mapped onto the engine's
//! [`DeflateConfig`].

use ignis_socketio_server::DeflateConfig;

/// A value out of range: the field (e.g.
/// `per_message_deflate.server_max_window_bits`) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeflateOptionError {
    pub(crate) field: &'static str,
    pub(crate) reason: &'static str,
}

impl DeflateOptionError {
    fn new(field: &'static str, reason: &'static str) -> Self {
        DeflateOptionError { field, reason }
    }
}

/// Default per-message-deflate threshold of the reference, in bytes.
pub const DEFAULT_DEFLATE_THRESHOLD: usize = 4096;

/// The reference's `zlibDeflateOptions`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZlibDeflateOptions {
    /// `chunkSize`: the step by which compression output grows; default
    /// 10 KiB, at least 64.
    pub chunk_size: Option<usize>,
    /// `level`: 0 (none) to 9 (smallest); default 6 (zlib's default).
    pub level: Option<u32>,
    /// `memLevel`: only 8, zlib's default (the backend does not take another).
    pub mem_level: Option<u8>,
}

/// The reference's `zlibInflateOptions`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZlibInflateOptions {
    /// `windowBits`: the window asked of clients that allow it (their
    /// `client_max_window_bits`) and inflated with; default 12, 9 to 15.
    pub window_bits: Option<u8>,
    /// `memLevel`: accepted for compatibility; inflating has no memory level.
    pub mem_level: Option<u8>,
}

/// The reference's `perMessageDeflate` settings; unset fields take the
/// reference component's defaults (compression on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerMessageDeflateOptions {
    /// Whether compression is offered to clients; default `true`.
    pub enabled: Option<bool>,
    /// `threshold`: smaller messages are sent uncompressed; default 4096 bytes.
    pub threshold: Option<usize>,
    /// `zlibDeflateOptions`.
    pub zlib_deflate_options: ZlibDeflateOptions,
    /// `zlibInflateOptions`.
    pub zlib_inflate_options: ZlibInflateOptions,
    /// `clientNoContextTakeover`; default `true`.
    pub client_no_context_takeover: Option<bool>,
    /// `serverNoContextTakeover`; default `true`.
    pub server_no_context_takeover: Option<bool>,
    /// `serverMaxWindowBits`; default 10, 9 to 15.
    pub server_max_window_bits: Option<u8>,
    /// `clientMaxWindowBits`; when set, wins over `zlibInflateOptions.windowBits`.
    pub client_max_window_bits: Option<u8>,
    /// `concurrencyLimit`: messages compressed at the same moment; default 20.
    pub concurrency_limit: Option<usize>,
}

impl PerMessageDeflateOptions {
    /// The reference component's defaults, every field set.
    pub fn defaults() -> PerMessageDeflateOptions {
        let engine = DeflateConfig::default();
        PerMessageDeflateOptions {
            enabled: Some(true),
            threshold: Some(DEFAULT_DEFLATE_THRESHOLD),
            zlib_deflate_options: ZlibDeflateOptions {
                chunk_size: Some(engine.chunk_size),
                level: Some(engine.level),
                mem_level: Some(8),
            },
            zlib_inflate_options: ZlibInflateOptions {
                window_bits: Some(engine.client_max_window_bits),
                mem_level: Some(8),
            },
            client_no_context_takeover: Some(engine.client_no_context_takeover),
            server_no_context_takeover: Some(engine.server_no_context_takeover),
            server_max_window_bits: Some(engine.server_max_window_bits),
            client_max_window_bits: None,
            concurrency_limit: Some(engine.concurrency_limit),
        }
    }

    /// `over`'s set fields win, the others are kept.
    pub fn merge(self, over: PerMessageDeflateOptions) -> PerMessageDeflateOptions {
        let (d, od) = (self.zlib_deflate_options, over.zlib_deflate_options);
        let (i, oi) = (self.zlib_inflate_options, over.zlib_inflate_options);
        PerMessageDeflateOptions {
            enabled: over.enabled.or(self.enabled),
            threshold: over.threshold.or(self.threshold),
            zlib_deflate_options: ZlibDeflateOptions {
                chunk_size: od.chunk_size.or(d.chunk_size),
                level: od.level.or(d.level),
                mem_level: od.mem_level.or(d.mem_level),
            },
            zlib_inflate_options: ZlibInflateOptions {
                window_bits: oi.window_bits.or(i.window_bits),
                mem_level: oi.mem_level.or(i.mem_level),
            },
            client_no_context_takeover: over
                .client_no_context_takeover
                .or(self.client_no_context_takeover),
            server_no_context_takeover: over
                .server_no_context_takeover
                .or(self.server_no_context_takeover),
            server_max_window_bits: over.server_max_window_bits.or(self.server_max_window_bits),
            client_max_window_bits: over.client_max_window_bits.or(self.client_max_window_bits),
            concurrency_limit: over.concurrency_limit.or(self.concurrency_limit),
        }
    }

    /// Applies the defaults (over [`PerMessageDeflateOptions::defaults`]) and
    /// checks the values.
    pub(crate) fn resolve(self) -> Result<ResolvedDeflate, DeflateOptionError> {
        let merged = PerMessageDeflateOptions::defaults().merge(self);
        let engine = DeflateConfig::default();
        let window = |field: &'static str, bits: Option<u8>, default: u8| match bits {
            None => Ok(default),
            Some(bits @ 9..=15) => Ok(bits),
            Some(_) => Err(DeflateOptionError::new(field, "must be 9 to 15")),
        };
        let settings = DeflateConfig {
            threshold: merged.threshold.unwrap_or(engine.threshold),
            level: match merged.zlib_deflate_options.level {
                Some(level @ 0..=9) => level,
                None => engine.level,
                Some(_) => {
                    return Err(DeflateOptionError::new(
                        "per_message_deflate.zlib_deflate_options.level",
                        "must be 0 to 9",
                    ));
                }
            },
            chunk_size: match merged.zlib_deflate_options.chunk_size {
                Some(size) if size < 64 => {
                    return Err(DeflateOptionError::new(
                        "per_message_deflate.zlib_deflate_options.chunk_size",
                        "must be at least 64",
                    ));
                }
                size => size.unwrap_or(engine.chunk_size),
            },
            server_no_context_takeover: merged
                .server_no_context_takeover
                .unwrap_or(engine.server_no_context_takeover),
            client_no_context_takeover: merged
                .client_no_context_takeover
                .unwrap_or(engine.client_no_context_takeover),
            server_max_window_bits: window(
                "per_message_deflate.server_max_window_bits",
                merged.server_max_window_bits,
                engine.server_max_window_bits,
            )?,
            client_max_window_bits: window(
                "per_message_deflate.client_max_window_bits",
                merged
                    .client_max_window_bits
                    .or(merged.zlib_inflate_options.window_bits),
                engine.client_max_window_bits,
            )?,
            concurrency_limit: match merged.concurrency_limit {
                Some(0) => {
                    return Err(DeflateOptionError::new(
                        "per_message_deflate.concurrency_limit",
                        "must be greater than 0",
                    ));
                }
                limit => limit.unwrap_or(engine.concurrency_limit),
            },
        };
        if merged
            .zlib_deflate_options
            .mem_level
            .is_some_and(|m| m != 8)
        {
            return Err(DeflateOptionError::new(
                "per_message_deflate.zlib_deflate_options.mem_level",
                "only 8 (zlib's default) is supported",
            ));
        }
        Ok(ResolvedDeflate {
            enabled: merged.enabled.unwrap_or(true),
            threshold: settings.threshold,
            settings,
        })
    }
}

/// Per-message deflate after merging and checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedDeflate {
    /// Whether compression is offered to clients.
    pub enabled: bool,
    /// The threshold, in bytes (also in `settings`).
    pub threshold: usize,
    /// The engine's settings this maps onto.
    pub settings: DeflateConfig,
}

impl ResolvedDeflate {
    /// The engine setting: the settings when enabled, else `None`.
    pub fn engine_config(&self) -> Option<DeflateConfig> {
        self.enabled.then_some(self.settings)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_reference_defaults_map_onto_the_engine() {
        let resolved = PerMessageDeflateOptions::default().resolve().unwrap();
        assert!(resolved.enabled);
        let s = resolved.engine_config().unwrap();
        assert_eq!(
            (s.threshold, s.chunk_size, s.server_max_window_bits),
            (4096, 10 * 1024, 10)
        );
        assert_eq!((s.client_max_window_bits, s.concurrency_limit), (12, 20));
        assert!(s.client_no_context_takeover && s.server_no_context_takeover);
    }

    #[test]
    fn fields_merge_and_bad_values_are_named() {
        let resolved = PerMessageDeflateOptions {
            threshold: Some(1024),
            zlib_inflate_options: ZlibInflateOptions {
                window_bits: Some(15),
                mem_level: None,
            },
            ..PerMessageDeflateOptions::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(resolved.settings.threshold, 1024);
        assert_eq!(resolved.settings.client_max_window_bits, 15);
        assert_eq!(resolved.settings.server_max_window_bits, 10, "kept");
        let off = PerMessageDeflateOptions {
            enabled: Some(false),
            ..PerMessageDeflateOptions::default()
        };
        assert_eq!(off.resolve().unwrap().engine_config(), None);
        let bad = PerMessageDeflateOptions {
            server_max_window_bits: Some(8),
            ..PerMessageDeflateOptions::default()
        };
        assert_eq!(
            bad.resolve().unwrap_err().field,
            "per_message_deflate.server_max_window_bits"
        );
    }
}
