//! Socket.IO packets turned into the Engine.IO frames that carry them: the
//! text part, then one binary frame per attachment.

use bytes::Bytes;
use serde_json::Value;

use crate::codec::{Args, Frame, PacketKind, SocketPacket};

/// The frames of an event `name` with `args` on `nsp`.
pub(crate) fn event(nsp: &str, name: &str, args: &Args, id: Option<u64>) -> Vec<Frame> {
    let mut values = Vec::with_capacity(args.values.len() + 1);
    values.push(Value::String(name.to_owned()));
    values.extend(args.values.iter().cloned());
    let kind = if args.attachments.is_empty() {
        PacketKind::Event
    } else {
        PacketKind::BinaryEvent
    };
    packet(kind, nsp, Some(Value::Array(values)), id, &args.attachments)
}

/// Frames for many receivers: they share one compressed form each.
pub(crate) fn shared(frames: Vec<Frame>) -> Vec<Frame> {
    frames.into_iter().map(Frame::shared).collect()
}

/// The frames of an acknowledgement with `args`.
pub(crate) fn ack(nsp: &str, id: u64, args: &Args) -> Vec<Frame> {
    let kind = if args.attachments.is_empty() {
        PacketKind::Ack
    } else {
        PacketKind::BinaryAck
    };
    packet(
        kind,
        nsp,
        Some(Value::Array(args.values.clone())),
        Some(id),
        &args.attachments,
    )
}

/// The frame of a packet without attachments.
pub(crate) fn simple(kind: PacketKind, nsp: &str, data: Option<Value>) -> Frame {
    let packet = SocketPacket::new(kind, nsp, data);
    Frame::text(format!("4{}", packet.encode()))
}

fn packet(
    kind: PacketKind,
    nsp: &str,
    data: Option<Value>,
    id: Option<u64>,
    attachments: &[Bytes],
) -> Vec<Frame> {
    let mut packet = SocketPacket::new(kind, nsp, data);
    packet.id = id;
    packet.attachments = attachments.len();
    let mut frames = Vec::with_capacity(1 + attachments.len());
    frames.push(Frame::text(format!("4{}", packet.encode())));
    frames.extend(attachments.iter().cloned().map(Frame::Binary));
    frames
}
