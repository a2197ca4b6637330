//! The user's `on_connect` / `on_disconnect` / `on_error` callbacks, run on a thread of their
//! own: never on the I/O thread, so a slow or panicking callback cannot stall or kill it.

use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::config::{ConnectInfo, DisconnectReason, Hook};
use crate::error::Error;

/// One connection's callbacks and the facts its `ConnectInfo` repeats.
pub(crate) struct Hooks {
    pub(crate) on_connect: Option<Hook<ConnectInfo>>,
    pub(crate) on_disconnect: Option<Hook<DisconnectReason>>,
    pub(crate) on_error: Option<Hook<Error>>,
    /// `ConnectInfo` without the server version, which each handshake fills in.
    pub(crate) info: ConnectInfo,
}

impl Hooks {
    /// True when at least one callback is set (otherwise nothing is ever sent).
    pub(crate) fn any(&self) -> bool {
        self.on_connect.is_some() || self.on_disconnect.is_some() || self.on_error.is_some()
    }
}

/// Something to tell a connection's callbacks.
pub(crate) enum Notice {
    Connected(Arc<Hooks>, Option<String>),
    Disconnected(Arc<Hooks>, DisconnectReason),
    Failed(Arc<Hooks>, Error),
}

/// The I/O thread's end: starts the callback thread the first time it has something to say.
#[derive(Default)]
pub(crate) struct Notifier {
    tx: Option<Sender<Notice>>,
}

impl Notifier {
    /// Hands a notice to the callback thread; never blocks.
    pub(crate) fn send(&mut self, notice: Notice) {
        if self.tx.is_none() {
            let (tx, rx) = crossbeam_channel::unbounded::<Notice>();
            // The thread ends when the I/O thread drops its sender. It is not joined: a
            // callback may hold the last client, whose drop joins the I/O thread.
            let spawned = std::thread::Builder::new()
                .name("redpoll-events".into())
                .spawn(move || rx.iter().for_each(run));
            if spawned.is_err() {
                return;
            }
            self.tx = Some(tx);
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(notice);
        }
    }
}

fn run(notice: Notice) {
    match notice {
        Notice::Connected(hooks, version) => {
            if let Some(hook) = &hooks.on_connect {
                let mut info = hooks.info.clone();
                info.server_version = version;
                hook.call(&info);
            }
        }
        Notice::Disconnected(hooks, reason) => {
            if let Some(hook) = &hooks.on_disconnect {
                hook.call(&reason);
            }
        }
        Notice::Failed(hooks, err) => {
            if let Some(hook) = &hooks.on_error {
                hook.call(&err);
            }
        }
    }
}
