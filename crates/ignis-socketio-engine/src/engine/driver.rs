//! The one task of a session, for its whole life: it reads the client's
//! packets (WebSocket, or what polling requests handed over), runs the works
//! they start one at a time, writes the outgoing queue, keeps the heartbeat,
//! handles the upgrade to WebSocket and closes the transport.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

use super::handler::{Connection, Message, Work};
use super::session::{CloseReason, PollState, Session, WsUpgrade};
use super::shared::EngineShared;
use super::ws_conn::WsConn;
use crate::codec::{EnginePacket, Frame};
use crate::ws::{OpCode, WsEvent, close_code};

/// How long the works of a client that is gone may delay its teardown.
const CLIENT_GONE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Where a packet came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The session's current transport.
    Main,
    /// A WebSocket still proving itself during an upgrade.
    Probe,
}

pub(crate) struct Driver<C: Connection> {
    session: Arc<Session>,
    conn: C,
    engine: Arc<EngineShared>,
    ws: Option<WsConn>,
    /// Boxed: only during an upgrade.
    probe: Option<Box<WsConn>>,
    works: VecDeque<Work>,
    running: Option<Work>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    closing: Option<Closing>,
    armed: Option<Instant>,
}

/// The future of a session's task: the driver and its one timer.
pub(crate) struct DriverTask<C: Connection> {
    driver: Driver<C>,
    sleep: Pin<Box<Sleep>>,
}

impl<C: Connection> Future for DriverTask<C> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.driver.poll_step(cx, this.sleep.as_mut())
    }
}

struct Closing {
    reason: CloseReason,
    /// Write what is queued first (the server closes); else drop it.
    flush: bool,
    /// Give up flushing at this time.
    deadline: Instant,
    /// The close frame is queued.
    frame_sent: bool,
}

impl<C: Connection> Driver<C> {
    pub(crate) fn new(
        session: Arc<Session>,
        conn: C,
        engine: Arc<EngineShared>,
        ws: Option<WsUpgrade>,
    ) -> Self {
        let next_ping = Instant::now() + engine.config.ping_interval;
        Driver {
            session,
            conn,
            ws: ws.map(|upgrade| {
                WsConn::new(upgrade, engine.config.max_payload, engine.deflate.as_ref())
            }),
            engine,
            probe: None,
            works: VecDeque::new(),
            running: None,
            next_ping: Some(next_ping),
            pong_deadline: None,
            closing: None,
            armed: None,
        }
    }

    /// The session's task. A future written by hand: an `async fn` would
    /// hold the driver twice (as its argument and as a local), which an idle
    /// connection pays for in its task's memory.
    pub(crate) fn run(self) -> DriverTask<C> {
        DriverTask {
            driver: self,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
        }
    }

    fn poll_step(&mut self, cx: &mut Context<'_>, mut sleep: Pin<&mut Sleep>) -> Poll<()> {
        self.session.task.register(cx.waker());
        loop {
            self.take_shared();
            self.read_transports(cx);
            // Works already started finish even while closing (bounded by
            // the closing deadline): a client's last events, its DISCONNECT
            // included, are handled in order before the session's teardown.
            let limit = self.engine.config.max_pending_messages;
            let reading_paused = self.works.len() >= limit;
            self.run_works(cx);
            // Reading stopped at the limit registered no waker on the socket:
            // once works have finished, read what the client sent meanwhile,
            // or a burst that filled the limit stalls until the ping timeout.
            if reading_paused && self.works.len() < limit && self.closing.is_none() {
                continue;
            }
            if self.closing.is_none() {
                self.check_timers();
            }
            if self.write(cx) {
                // Written everything there was; a close may now finish.
                if self.try_finish(cx) {
                    return Poll::Ready(());
                }
            }
            if let Some(closing) = &self.closing
                && Instant::now() >= closing.deadline
            {
                self.finish();
                return Poll::Ready(());
            }
            let deadline = self.next_deadline();
            if self.armed != Some(deadline) {
                sleep.as_mut().reset(deadline);
                self.armed = Some(deadline);
            }
            if sleep.as_mut().poll(cx).is_ready() {
                self.armed = None;
                continue;
            }
            return Poll::Pending;
        }
    }

    /// Takes packets of polling requests, a waiting upgrade and a close request.
    fn take_shared(&mut self) {
        self.take_inbox();
        let (upgrade, close) = {
            let mut shared = self.session.lock();
            (shared.upgrade.take(), shared.close.clone())
        };
        // A second upgrade, or one while closing, is dropped (which closes it).
        if let Some(io) = upgrade
            && self.ws.is_none()
            && self.probe.is_none()
            && self.closing.is_none()
        {
            self.probe = Some(Box::new(WsConn::new(
                *io,
                self.engine.config.max_payload,
                self.engine.deflate.as_ref(),
            )));
        }
        if let Some(reason) = close {
            self.begin_close(reason);
        }
    }

    /// Takes polling packets only while the works are under their bound
    /// (each packet starts one work at most); the POST that brought them is
    /// answered once all are taken, which holds the client back as a paused
    /// socket does a WebSocket.
    fn take_inbox(&mut self) {
        loop {
            let room = self
                .engine
                .config
                .max_pending_messages
                .saturating_sub(self.works.len());
            let taken: Vec<EnginePacket> = {
                let mut shared = self.session.lock();
                if room == 0 || shared.inbox.is_empty() {
                    return;
                }
                let end = room.min(shared.inbox.len());
                let taken = shared.inbox.drain(..end).collect();
                if shared.inbox.is_empty() {
                    shared.inbox = VecDeque::new();
                    self.session.inbox_wake.notify_one();
                }
                taken
            };
            for packet in taken {
                self.on_packet(packet, Source::Main);
            }
        }
    }

    fn read_transports(&mut self, cx: &mut Context<'_>) {
        let had_ws = self.ws.is_some();
        self.read_sources(cx);
        // An upgrade completed while reading the probe: the probe is now the
        // main transport and must be read (and its waker registered) too, or
        // what the client sent right behind its upgrade packet waits unread.
        if !had_ws && self.ws.is_some() {
            self.read_sources(cx);
        }
    }

    fn read_sources(&mut self, cx: &mut Context<'_>) {
        let mut events = Vec::new();
        for source in [Source::Main, Source::Probe] {
            // While closing, only an upgrade under way is completed, so that
            // what is queued can still be written on the new transport.
            let wanted = match &self.closing {
                None => true,
                Some(closing) => source == Source::Probe && closing.flush,
            };
            loop {
                if !wanted || self.works.len() >= self.engine.config.max_pending_messages {
                    break;
                }
                let conn = match source {
                    Source::Main => self.ws.as_mut(),
                    Source::Probe => self.probe.as_deref_mut(),
                };
                let Some(conn) = conn else { break };
                match conn.poll_read_events(cx, &mut events) {
                    Poll::Pending => break,
                    Poll::Ready(Err(error)) => {
                        let code = match error
                            .get_ref()
                            .and_then(|e| e.downcast_ref::<crate::ws::WsError>())
                        {
                            Some(ws) => ws.code,
                            None => close_code::PROTOCOL,
                        };
                        self.transport_failed(source, code, error.to_string());
                        break;
                    }
                    Poll::Ready(Ok(())) => {
                        let eof = conn.eof;
                        for event in events.drain(..) {
                            self.on_ws_event(event, source);
                        }
                        if eof {
                            self.transport_failed(source, close_code::NORMAL, String::new());
                            break;
                        }
                    }
                }
            }
        }
    }

    fn transport_failed(&mut self, source: Source, code: u16, error: String) {
        match source {
            Source::Probe => self.probe = None,
            Source::Main if error.is_empty() => self.begin_close(CloseReason::TransportClose),
            Source::Main => {
                if let Some(ws) = self.ws.as_mut() {
                    ws.push_close(code, "");
                }
                self.begin_close(CloseReason::TransportError(error));
            }
        }
    }

    fn on_ws_event(&mut self, event: WsEvent, source: Source) {
        let packet = match event {
            WsEvent::Text(text) => match EnginePacket::decode_text(&text) {
                Ok(packet) => packet,
                Err(error) => return self.protocol_error(source, error.to_string()),
            },
            WsEvent::Binary(bytes) => EnginePacket::Binary(bytes),
            WsEvent::Ping(payload) => {
                if let Some(conn) = self.conn_of(source) {
                    conn.push_control(OpCode::Pong, &payload);
                }
                return;
            }
            WsEvent::Pong => return,
            WsEvent::Close(..) => {
                return match source {
                    Source::Probe => self.probe = None,
                    Source::Main => {
                        if let Some(ws) = self.ws.as_mut() {
                            ws.push_close(close_code::NORMAL, "");
                        }
                        self.begin_close(CloseReason::TransportClose);
                    }
                };
            }
        };
        self.on_packet(packet, source);
    }

    fn conn_of(&mut self, source: Source) -> Option<&mut WsConn> {
        match source {
            Source::Main => self.ws.as_mut(),
            Source::Probe => self.probe.as_deref_mut(),
        }
    }

    fn protocol_error(&mut self, source: Source, error: String) {
        if source == Source::Probe {
            self.probe = None;
            return;
        }
        tracing::debug!(sid = %self.session.id(), %error, "protocol error, closing the session");
        if let Some(ws) = self.ws.as_mut() {
            ws.push_close(close_code::PROTOCOL, "");
        }
        self.begin_close(CloseReason::ProtocolError(error));
    }

    fn on_packet(&mut self, packet: EnginePacket, source: Source) {
        match packet {
            EnginePacket::Message(text) => self.on_message(Message::Text(text), source),
            EnginePacket::Binary(bytes) => self.on_message(Message::Binary(bytes), source),
            EnginePacket::Pong(_) => {
                if self.pong_deadline.take().is_some() {
                    self.next_ping = Some(Instant::now() + self.engine.config.ping_interval);
                }
            }
            EnginePacket::Ping(data) if source == Source::Probe && data == "probe" => {
                if let Some(probe) = self.probe.as_mut() {
                    let answer = Frame::text("3probe");
                    probe.push(VecDeque::from([answer]));
                }
                self.session.lock().poll = PollState::Probed;
                self.session.poll_wake.notify_one();
            }
            EnginePacket::Ping(data) => {
                let _ = self
                    .session
                    .send(Frame::from_packet(&EnginePacket::Pong(data)));
            }
            EnginePacket::Upgrade if source == Source::Probe => self.complete_upgrade(),
            EnginePacket::Close => self.begin_close(CloseReason::TransportClose),
            EnginePacket::Noop => {}
            EnginePacket::Open(_) | EnginePacket::Upgrade => {
                self.protocol_error(source, "unexpected open or upgrade packet".to_owned());
            }
        }
    }

    fn on_message(&mut self, message: Message, source: Source) {
        self.engine.counters.message();
        if source == Source::Probe && self.ws.is_none() {
            // Before the upgrade completes, messages belong on polling.
            return self.protocol_error(source, "message on a WebSocket before the upgrade".into());
        }
        match self.conn.on_message(message) {
            Ok(Some(work)) => self.works.push_back(work),
            Ok(None) => {}
            Err(error) => self.protocol_error(Source::Main, error),
        }
    }

    fn complete_upgrade(&mut self) {
        let probed = self.session.lock().poll == PollState::Probed;
        if !probed {
            return self.protocol_error(Source::Probe, "upgrade without a probe".to_owned());
        }
        self.ws = self.probe.take().map(|probe| *probe);
        self.session.set_websocket();
        self.session.lock().poll = PollState::Upgraded;
        self.session.poll_wake.notify_one();
        self.conn.on_upgrade();
    }

    fn run_works(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.running.is_none() {
                self.running = self.works.pop_front();
                if self.works.is_empty() {
                    self.works = VecDeque::new();
                }
            }
            let Some(work) = self.running.as_mut() else {
                return;
            };
            if work.as_mut().poll(cx).is_pending() {
                return;
            }
            self.running = None;
        }
    }

    fn check_timers(&mut self) {
        let now = Instant::now();
        if let Some(deadline) = self.pong_deadline
            && now >= deadline
        {
            return self.begin_close(CloseReason::PingTimeout);
        }
        if let Some(at) = self.next_ping
            && now >= at
        {
            self.next_ping = None;
            self.pong_deadline = Some(now + self.engine.config.ping_timeout);
            let _ = self.session.send(Frame::text("2"));
        }
        if let Some(at) = self.conn.deadline()
            && now >= at
        {
            self.conn.on_deadline();
        }
    }

    fn next_deadline(&self) -> Instant {
        let far =
            Instant::now() + self.engine.config.ping_interval + self.engine.config.ping_timeout;
        [
            self.next_ping,
            self.pong_deadline,
            self.closing.as_ref().map(|c| c.deadline),
            self.conn.deadline().filter(|_| self.closing.is_none()),
        ]
        .into_iter()
        .flatten()
        .fold(far, Instant::min)
    }

    /// Writes the WebSockets; true once nothing is left to write on the
    /// session's transport.
    fn write(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(probe) = self.probe.as_mut()
            && matches!(probe.poll_flush(cx), Poll::Ready(Err(_)))
        {
            self.probe = None;
        }
        if let Some(closing) = &self.closing
            && !closing.flush
        {
            // Closing without flushing (the client is gone or too slow). A
            // polling client that sent a close still gets the noop that ends
            // its poll, even one that arrives a moment later (its GET and
            // POST travel on separate connections), within the closing grace.
            let awaits_poll = self.ws.is_none()
                && closing.reason == CloseReason::TransportClose
                && !self.session.lock().close_sent;
            return !awaits_poll;
        }
        let Some(ws) = self.ws.as_mut() else {
            // Polling: requests take the queue, and a last one the close packet.
            let shared = self.session.lock();
            return shared.queue.frames.is_empty() && shared.close_sent;
        };
        loop {
            if !ws.has_frames() {
                let frames = {
                    let mut shared = self.session.lock();
                    shared.queue.bytes = 0;
                    std::mem::take(&mut shared.queue.frames)
                };
                if !frames.is_empty() {
                    ws.push(frames);
                }
            }
            match ws.poll_flush(cx) {
                Poll::Pending => return false,
                Poll::Ready(Err(error)) => {
                    self.ws = None;
                    self.begin_close(CloseReason::TransportError(error.to_string()));
                    return true;
                }
                Poll::Ready(Ok(())) => {
                    if self.session.lock().queue.frames.is_empty() {
                        return ws.is_flushed();
                    }
                }
            }
        }
    }

    fn begin_close(&mut self, reason: CloseReason) {
        if self.closing.is_some() {
            return;
        }
        let flush = matches!(reason, CloseReason::ServerClose(_));
        // A server close lingers to write what is queued. When the client is
        // gone, its last works get a short grace to finish in order before
        // the teardown; slower ones go on detached, so that the application
        // learns of the disconnect promptly (as with Node), not only once a
        // long handler returns.
        let linger = if flush {
            self.engine.config.ping_timeout
        } else {
            self.engine.config.ping_timeout.min(CLIENT_GONE_GRACE)
        };
        self.session
            .lock()
            .close
            .get_or_insert_with(|| reason.clone());
        self.session.poll_wake.notify_one();
        self.closing = Some(Closing {
            reason,
            flush,
            deadline: Instant::now() + linger,
            frame_sent: false,
        });
    }

    /// Works unfinished at the closing deadline keep running, in order,
    /// outside this task.
    fn detach_works(&mut self) {
        let mut works: VecDeque<Work> = self.running.take().into_iter().collect();
        works.extend(self.works.drain(..));
        if !works.is_empty() {
            tokio::spawn(async move {
                for work in works {
                    work.await;
                }
            });
        }
    }

    /// Sends the close frame once everything is written and the works are
    /// done; true when done.
    fn try_finish(&mut self, cx: &mut Context<'_>) -> bool {
        if self.running.is_some() || !self.works.is_empty() {
            return false;
        }
        let Some(closing) = self.closing.as_mut() else {
            return false;
        };
        if let Some(ws) = self.ws.as_mut() {
            if !closing.frame_sent {
                closing.frame_sent = true;
                let code = match closing.reason {
                    CloseReason::SlowConsumer => close_code::POLICY,
                    _ => close_code::NORMAL,
                };
                ws.push_close(code, "");
            }
            // A server close waits (until the deadline) for the close frame
            // to be written; a dropped client is not waited for.
            if ws.poll_flush(cx).is_pending() && closing.flush {
                return false;
            }
            let _ = ws.poll_shutdown(cx);
        }
        self.finish();
        true
    }

    fn finish(&mut self) {
        self.detach_works();
        let reason = self
            .closing
            .as_ref()
            .map_or(CloseReason::TransportClose, |c| c.reason.clone());
        {
            let mut shared = self.session.lock();
            shared.closed = true;
            shared.queue = Default::default();
            shared.inbox = Default::default();
        }
        self.session.poll_wake.notify_one();
        self.session.inbox_wake.notify_one();
        self.engine.remove(self.session.id());
        self.engine.counters.closed(&reason);
        if reason == CloseReason::SlowConsumer {
            // One line per disconnected client: the bound is what keeps it rare.
            tracing::warn!(sid = %self.session.id(), %reason, "client disconnected");
        } else {
            tracing::debug!(sid = %self.session.id(), %reason, "session closed");
        }
        self.conn.on_close(&reason);
        self.ws = None;
        self.probe = None;
    }
}
