//! RFC 7692 negotiation of permessage-deflate in `Sec-WebSocket-Extensions`:
//! a server picking the first acceptable offer and answering it, and a client
//! making an offer and checking the server's answer.

use std::sync::Arc;

use super::deflate::{DeflateConfig, DeflatePool, Deflater, Inflater, WINDOW_BITS};

/// The extension's token.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// Which end of the connection this side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that answered the upgrade.
    Server,
    /// The end that asked for it.
    Client,
}

/// What both ends agreed on. Windows are in bits, 15 when not limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server compresses every message on its own.
    pub server_no_context_takeover: bool,
    /// The client compresses every message on its own.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with.
    pub client_max_window_bits: u8,
    /// Whether the answer names `server_max_window_bits`.
    announce_server_bits: bool,
    /// Whether the answer names `client_max_window_bits` (only when offered).
    announce_client_bits: bool,
}

impl DeflateParams {
    /// The window `role` compresses its messages with.
    pub fn send_window_bits(&self, role: Role) -> u8 {
        match role {
            Role::Server => self.server_max_window_bits,
            Role::Client => self.client_max_window_bits,
        }
    }

    /// The window of the messages `role` receives.
    pub fn receive_window_bits(&self, role: Role) -> u8 {
        match role {
            Role::Server => self.client_max_window_bits,
            Role::Client => self.server_max_window_bits,
        }
    }

    /// Whether `role` must keep its inflate context between messages.
    pub fn receive_keeps_context(&self, role: Role) -> bool {
        match role {
            Role::Server => !self.client_no_context_takeover,
            Role::Client => !self.server_no_context_takeover,
        }
    }

    /// What `role` compresses its messages with and inflates the peer's
    /// with, both drawing on `pool`.
    pub fn codecs(&self, pool: &Arc<DeflatePool>, role: Role) -> (Deflater, Inflater) {
        (
            Deflater::new(pool.clone(), self.send_window_bits(role)),
            Inflater::new(
                pool.clone(),
                self.receive_window_bits(role),
                self.receive_keeps_context(role),
            ),
        )
    }

    /// The server's `Sec-WebSocket-Extensions` answer.
    pub fn response(&self) -> String {
        let mut out = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            out.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            out.push_str("; client_no_context_takeover");
        }
        if self.announce_server_bits {
            out.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.announce_client_bits {
            out.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        out
    }
}

/// Why a server's answer cannot be accepted by a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    /// The answer names another extension, or more than one.
    #[error("the server answered with an extension that was not offered")]
    NotOffered,
    /// A parameter is unknown, repeated, or has a bad value.
    #[error("the server's permessage-deflate answer has a bad parameter")]
    BadParameter,
}

/// The parameters of one extension offer or answer, as written.
#[derive(Default)]
struct Written {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// Absent, or the value.
    server_max_window_bits: Option<u8>,
    /// Absent, present without a value (`Some(None)`), or the value.
    client_max_window_bits: Option<Option<u8>>,
}

/// A window size value: 8 to 15, digits only, no leading zero.
fn window_value(value: &str) -> Option<u8> {
    let value = value.trim_matches('"');
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u8>().ok().filter(|v| (8..=15).contains(v))
}

/// Parses one element of the header (`permessage-deflate; a; b=1`); `None`
/// for another extension or for a malformed / unknown / repeated parameter.
fn parse_element(element: &str) -> Option<Written> {
    let mut parts = element.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
        return None;
    }
    let mut out = Written::default();
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (param, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) if !out.server_no_context_takeover => {
                out.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !out.client_no_context_takeover => {
                out.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(v)) if out.server_max_window_bits.is_none() => {
                out.server_max_window_bits = Some(window_value(v)?);
            }
            ("client_max_window_bits", v) if out.client_max_window_bits.is_none() => {
                out.client_max_window_bits = Some(match v {
                    None => None,
                    Some(v) => Some(window_value(v)?),
                });
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Server side: the parameters for the first acceptable permessage-deflate
/// offer among the `Sec-WebSocket-Extensions` values, or `None` to go on
/// without the extension (RFC 7692 §5, §7: a malformed offer is declined, not
/// failed, so a later one may still be taken).
pub fn negotiate<'a>(
    offers: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Option<DeflateParams> {
    offers
        .into_iter()
        .flat_map(|value| value.split(','))
        .filter_map(parse_element)
        .find_map(|offer| accept_offer(&offer, config))
}

fn accept_offer(offer: &Written, config: &DeflateConfig) -> Option<DeflateParams> {
    let ours = config
        .server_max_window_bits
        .clamp(*WINDOW_BITS.start(), *WINDOW_BITS.end());
    let server_bits = match offer.server_max_window_bits {
        Some(asked) => ours.min(asked),
        None => ours,
    };
    // The backend cannot compress with a 2^8 window: decline such an offer.
    if server_bits < *WINDOW_BITS.start() {
        return None;
    }
    let client_bits = match offer.client_max_window_bits {
        None => 15,
        Some(limit) => config
            .client_max_window_bits
            .clamp(*WINDOW_BITS.start(), *WINDOW_BITS.end())
            .min(limit.unwrap_or(15)),
    };
    Some(DeflateParams {
        server_no_context_takeover: offer.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
        announce_server_bits: offer.server_max_window_bits.is_some() || server_bits < 15,
        announce_client_bits: offer.client_max_window_bits.is_some(),
    })
}

/// Client side: the offer to send in `Sec-WebSocket-Extensions`.
pub fn client_offer(config: &DeflateConfig) -> String {
    let mut out = String::from(PERMESSAGE_DEFLATE);
    if config.client_no_context_takeover {
        out.push_str("; client_no_context_takeover");
    }
    if config.server_no_context_takeover {
        out.push_str("; server_no_context_takeover");
    }
    out.push_str("; client_max_window_bits");
    out
}

/// Client side: checks the server's answer to [`client_offer`]; `Ok(None)`
/// when the server declined the extension.
pub fn accept_response<'a>(
    answers: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Result<Option<DeflateParams>, NegotiationError> {
    let elements: Vec<&str> = answers
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let [element] = elements.as_slice() else {
        return if elements.is_empty() {
            Ok(None)
        } else {
            Err(NegotiationError::NotOffered)
        };
    };
    let first = element.split(';').next().unwrap_or_default().trim();
    if !first.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
        return Err(NegotiationError::NotOffered);
    }
    let answer = parse_element(element).ok_or(NegotiationError::BadParameter)?;
    if config.server_no_context_takeover && !answer.server_no_context_takeover {
        return Err(NegotiationError::BadParameter);
    }
    let client_bits = match answer.client_max_window_bits {
        None => 15,
        Some(Some(bits)) if bits >= *WINDOW_BITS.start() => bits,
        Some(_) => return Err(NegotiationError::BadParameter),
    };
    Ok(Some(DeflateParams {
        server_no_context_takeover: answer.server_no_context_takeover,
        client_no_context_takeover: answer.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: answer.server_max_window_bits.unwrap_or(15),
        client_max_window_bits: client_bits,
        announce_server_bits: answer.server_max_window_bits.is_some(),
        announce_client_bits: answer.client_max_window_bits.is_some(),
    }))
}
