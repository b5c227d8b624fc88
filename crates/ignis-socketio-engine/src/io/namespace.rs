//! A namespace: its sockets and rooms on this node. What reaches the rest
//! of the fleet is in `fleet.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use super::adapter::{AdapterError, BroadcastOptions};
use super::handler::DisconnectReason;
use super::types::{Adapter, Namespace, NamespaceHandler, NamespaceMonitor, Socket};

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl Namespace {
    pub(crate) fn new(
        name: String,
        handler: Arc<dyn NamespaceHandler>,
        adapter: Arc<dyn Adapter>,
    ) -> Namespace {
        Namespace {
            name,
            handler,
            adapter,
            sockets: RwLock::new(HashMap::new()),
            rooms: RwLock::new(HashMap::new()),
            ack_ids: AtomicU64::new(0),
            monitor: OnceLock::new(),
        }
    }

    /// Lets the adapter keep a handle to this namespace and get ready.
    pub async fn init_adapter(self: &Arc<Self>) -> Result<(), AdapterError> {
        self.adapter.init(Arc::downgrade(self)).await
    }

    /// Its name (`/`, `/admin`, …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Lets `monitor` watch the namespace's sockets from now on; false if
    /// one watches already (there is one per namespace).
    pub fn set_monitor(&self, monitor: Arc<dyn NamespaceMonitor>) -> bool {
        self.monitor.set(monitor).is_ok()
    }

    /// The namespace's monitor, if one was set.
    pub(crate) fn monitor(&self) -> Option<&Arc<dyn NamespaceMonitor>> {
        self.monitor.get()
    }

    /// A socket's data as the fleet's other nodes see it: `data` (an object,
    /// or `null` for none) with the fields the monitor adds, if one watches.
    /// Data that is not an object is returned as it is.
    pub fn fleet_data(&self, socket: &Socket, data: serde_json::Value) -> serde_json::Value {
        let Some(monitor) = self.monitor() else {
            return data;
        };
        let mut map = match data {
            serde_json::Value::Object(map) => map,
            serde_json::Value::Null => serde_json::Map::new(),
            other => return other,
        };
        monitor.fleet_data(socket, &mut map);
        if map.is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::Value::Object(map)
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// A socket of this node by id.
    pub fn socket(&self, id: &str) -> Option<Socket> {
        read(&self.sockets).get(id).cloned()
    }

    /// Every socket of this node.
    pub fn sockets(&self) -> Vec<Socket> {
        read(&self.sockets).values().cloned().collect()
    }

    /// How many sockets of this node are connected.
    pub fn socket_count(&self) -> usize {
        read(&self.sockets).len()
    }

    /// The rooms of this node that have members (own-id rooms excluded).
    pub fn rooms(&self) -> Vec<String> {
        read(&self.rooms).keys().map(|r| r.to_string()).collect()
    }

    /// Adds a socket whose connect handler accepted it; false if it is gone.
    pub(crate) fn insert(&self, socket: &Socket) -> bool {
        let mut sockets = write(&self.sockets);
        if !socket.mark_connected() {
            return false;
        }
        sockets.insert(socket.0.id.clone().into(), socket.clone());
        true
    }

    /// Forgets a socket the connect handler refused (rooms it joined there).
    pub(crate) fn discard(&self, socket: &Socket) {
        socket.mark_gone();
        self.leave_all(socket);
    }

    fn leave_all(&self, socket: &Socket) {
        let left = socket.take_rooms();
        if !left.is_empty() {
            let mut rooms = write(&self.rooms);
            for room in left {
                if let Some(members) = rooms.get_mut(&room) {
                    members.remove(socket.id());
                    if members.is_empty() {
                        rooms.remove(&room);
                    }
                }
            }
        }
    }

    /// Removes a connected socket; false if it had left already.
    pub(crate) fn remove(&self, socket: &Socket, reason: &str) -> bool {
        if !socket.mark_gone() {
            return false;
        }
        write(&self.sockets).remove(socket.id());
        let reason = match reason {
            "client namespace disconnect" => DisconnectReason::ClientNamespaceDisconnect,
            "server namespace disconnect" => DisconnectReason::ServerNamespaceDisconnect,
            other => DisconnectReason::Connection(other.to_owned()),
        };
        // Like Node's `disconnecting`: the handler still sees the rooms (no
        // broadcast reaches the socket any more: it is gone).
        self.handler.on_disconnect(socket.clone(), reason.clone());
        if let Some(monitor) = self.monitor() {
            monitor.socket_disconnected(socket, &reason);
        }
        self.leave_all(socket);
        socket.drop_acks();
        true
    }

    pub(crate) fn join<I, R>(&self, socket: &Socket, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: AsRef<str>,
    {
        // Rooms newly joined, told to the monitor once the locks are released.
        let mut joined = Vec::new();
        let watched = self.monitor().is_some() && socket.connected();
        {
            // Sockets before rooms, in the order `local_targets` takes them.
            let sockets = read(&self.sockets);
            let mut map = write(&self.rooms);
            if socket.is_gone() {
                return;
            }
            let mut own = socket.0.rooms.lock().unwrap_or_else(|p| p.into_inner());
            let id: Arc<str> = Arc::from(socket.id());
            for room in rooms {
                let room = room.as_ref();
                // Another socket's id room is private to it: joining it would
                // receive what is sent to that socket alone.
                if room == socket.id()
                    || sockets.contains_key(room)
                    || own.iter().any(|r| &**r == room)
                {
                    continue;
                }
                let key: Arc<str> = map
                    .get_key_value(room)
                    .map_or_else(|| Arc::from(room), |(k, _)| k.clone());
                map.entry(key.clone()).or_default().insert(id.clone());
                if watched {
                    joined.push(key.clone());
                }
                own.push(key);
            }
        }
        if let Some(monitor) = self.monitor() {
            for room in joined {
                monitor.room_joined(socket, &room);
            }
        }
    }

    pub(crate) fn leave<I, R>(&self, socket: &Socket, rooms: I)
    where
        I: IntoIterator<Item = R>,
        R: AsRef<str>,
    {
        let mut left = Vec::new();
        let watched = self.monitor().is_some() && socket.connected();
        {
            let mut map = write(&self.rooms);
            let mut own = socket.0.rooms.lock().unwrap_or_else(|p| p.into_inner());
            for room in rooms {
                let room = room.as_ref();
                let Some(at) = own.iter().position(|r| &**r == room) else {
                    continue;
                };
                let key = own.swap_remove(at);
                if let Some(members) = map.get_mut(room) {
                    members.remove(socket.id());
                    if members.is_empty() {
                        map.remove(room);
                    }
                }
                if watched {
                    left.push(key);
                }
            }
        }
        if let Some(monitor) = self.monitor() {
            for room in left {
                monitor.room_left(socket, &room);
            }
        }
    }

    /// This node's sockets matching `options`.
    pub fn local_targets(&self, options: &BroadcastOptions) -> Vec<Socket> {
        let sockets = read(&self.sockets);
        let rooms = read(&self.rooms);
        let members = |room: &str| -> Vec<Arc<str>> {
            let mut ids: Vec<Arc<str>> = rooms
                .get(room)
                .map(|m| m.iter().cloned().collect())
                .unwrap_or_default();
            if let Some((id, _)) = sockets.get_key_value(room) {
                ids.push(id.clone());
            }
            ids
        };
        let excluded: HashSet<Arc<str>> = options.except.iter().flat_map(|r| members(r)).collect();
        let mut targets = Vec::new();
        if options.rooms.is_empty() {
            targets.extend(
                sockets
                    .iter()
                    .filter(|(id, _)| !excluded.contains(*id))
                    .map(|(_, s)| s.clone()),
            );
        } else {
            let mut seen = HashSet::new();
            for room in &options.rooms {
                for id in members(room) {
                    if !excluded.contains(&id)
                        && seen.insert(id.clone())
                        && let Some(socket) = sockets.get(&id)
                    {
                        targets.push(socket.clone());
                    }
                }
            }
        }
        targets
    }
}
