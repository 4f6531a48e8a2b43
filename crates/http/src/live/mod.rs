//! Live delivery: which open streams should look at the change feed again.
//!
//! The database is the truth. A stream never takes an event from the bus: it
//! reads its feed from the database, after the last position it sent. The bus
//! only carries *notices* ("feed F has reached position n", "session S has
//! ended"), so a notice lost, repeated or late costs a read, never an event.
//! Within one process notices go straight to the [`Hub`]; with `events.bus =
//! "nats"` they also go to every other node through NATS (see [`nats`]),
//! which may drop them (core NATS is at-most-once): a node that reconnects or
//! falls behind tells all its streams to read again, and every stream reads
//! again at each heartbeat anyway.

pub(crate) mod nats;
pub(crate) mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use colloq_core::events::Notice;
use colloq_core::sessions::SessionKey;
use colloq_domain::event::Feed;
use tokio::sync::watch;

use crate::settings::{Bus, EventsSettings};

/// This node's open streams, by what they wait for.
#[derive(Debug)]
pub(crate) struct Hub {
    /// Per feed with a stream open here: the newest position heard of.
    feeds: Mutex<HashMap<Feed, watch::Sender<i64>>>,
    /// Per session with a stream open here: set once it has ended.
    sessions: Mutex<HashMap<SessionKey, watch::Sender<bool>>>,
    /// Bumped when notices may have been lost: every stream reads again.
    epoch: watch::Sender<u64>,
    /// Set when the server stops: every stream ends, telling its client to
    /// reconnect (to another node), so open streams do not hold the stop.
    closing: watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            feeds: Mutex::default(),
            sessions: Mutex::default(),
            epoch: watch::Sender::new(0),
            closing: watch::Sender::new(false),
        }
    }
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section below leaves the maps whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hub {
    /// A feed reached `position`: wakes its streams here, if any.
    pub(crate) fn notify(&self, feed: Feed, position: i64) {
        if let Some(sender) = locked(&self.feeds).get(&feed) {
            sender.send_if_modified(|heard| {
                let newer = position > *heard;
                if newer {
                    *heard = position;
                }
                newer
            });
        }
    }

    /// A session ended: its streams here close.
    pub(crate) fn end_session(&self, session: &SessionKey) {
        if let Some(sender) = locked(&self.sessions).get(session) {
            sender.send_replace(true);
        }
    }

    /// Notices may have been lost: every stream here reads its feed again.
    pub(crate) fn resync(&self) {
        self.epoch
            .send_modify(|epoch| *epoch = epoch.wrapping_add(1));
        metrics::counter!("colloq_events_resyncs_total").increment(1);
    }

    /// Registers a stream of `feed` for `session`.
    fn subscribe(self: &Arc<Self>, feed: Feed, session: SessionKey) -> Subscription {
        let feed_rx = locked(&self.feeds)
            .entry(feed)
            .or_insert_with(|| watch::Sender::new(0))
            .subscribe();
        let session_rx = locked(&self.sessions)
            .entry(session.clone())
            .or_insert_with(|| watch::Sender::new(false))
            .subscribe();
        metrics::gauge!("colloq_event_streams_open").increment(1.0);
        Subscription {
            hub: Arc::clone(self),
            feed,
            session,
            news: Some(feed_rx),
            ended: Some(session_rx),
            epoch: self.epoch.subscribe(),
            closing: self.closing.subscribe(),
        }
    }

    fn unsubscribe(&self, feed: Feed, session: &SessionKey) {
        // The subscription's receivers are dropped by now: a map entry that
        // nobody receives any more goes, so the maps hold open streams only.
        let mut feeds = locked(&self.feeds);
        if feeds.get(&feed).is_some_and(|s| s.receiver_count() == 0) {
            feeds.remove(&feed);
        }
        drop(feeds);
        let mut sessions = locked(&self.sessions);
        if sessions
            .get(session)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            sessions.remove(session);
        }
        metrics::gauge!("colloq_event_streams_open").decrement(1.0);
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        (locked(&self.feeds).len(), locked(&self.sessions).len())
    }
}

/// What one open stream waits for; leaving the hub when dropped.
pub(crate) struct Subscription {
    hub: Arc<Hub>,
    feed: Feed,
    session: SessionKey,
    pub(crate) news: Option<watch::Receiver<i64>>,
    pub(crate) ended: Option<watch::Receiver<bool>>,
    pub(crate) epoch: watch::Receiver<u64>,
    pub(crate) closing: watch::Receiver<bool>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.news = None;
        self.ended = None;
        self.hub.unsubscribe(self.feed, &self.session);
    }
}

/// The bus as the rest of the server sees it.
#[derive(Clone, Debug)]
pub struct Live {
    hub: Arc<Hub>,
    nats: Option<nats::NatsBus>,
}

impl Live {
    /// A bus within this process only.
    pub fn local() -> Self {
        Self {
            hub: Arc::default(),
            nats: None,
        }
    }

    /// The bus `settings` describe. Connects to NATS when asked to, and waits
    /// for nothing: until NATS answers, notices stay on this node, and
    /// streams catch up when it does.
    ///
    /// # Errors
    /// A message for the operator when the NATS address cannot be used.
    pub async fn start(settings: &EventsSettings) -> Result<Self, String> {
        let hub = Arc::<Hub>::default();
        let nats = match settings.bus {
            Bus::Local => None,
            Bus::Nats => Some(nats::NatsBus::connect(settings, Arc::clone(&hub)).await?),
        };
        Ok(Self { hub, nats })
    }

    /// Tells every stream of each feed, on every node, that it has news.
    pub(crate) fn publish(&self, notices: &[Notice]) {
        for &(feed, position) in notices {
            self.hub.notify(feed, position);
        }
        if let Some(nats) = &self.nats {
            nats.publish_notices(notices);
        }
    }

    /// Closes the streams of these sessions, on every node.
    pub(crate) fn end_sessions(&self, sessions: &[SessionKey]) {
        for session in sessions {
            self.hub.end_session(session);
        }
        if let Some(nats) = &self.nats {
            nats.publish_ended(sessions);
        }
    }

    fn subscribe(&self, feed: Feed, session: SessionKey) -> Subscription {
        self.hub.subscribe(feed, session)
    }

    /// Ends every open stream of this process (the server is stopping): each
    /// client is told so and reconnects, with its last id, elsewhere.
    pub fn shut_down(&self) {
        self.hub.closing.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use colloq_domain::ids::UserId;

    use super::*;

    #[actix_web::test]
    async fn a_stream_hears_its_feed_and_session_and_leaves_nothing_behind() {
        let live = Live::local();
        let key = SessionKey::from_text("s1");
        let mut sub = live.subscribe(Feed::User(UserId(7)), key.clone());
        let mut news = sub.news.take().unwrap_or_else(|| unreachable!());
        live.publish(&[(Feed::User(UserId(8)), 3)]);
        assert!(!news.has_changed().unwrap_or(true), "another feed");
        live.publish(&[(Feed::User(UserId(7)), 3)]);
        assert!(news.has_changed().unwrap_or(false));
        assert_eq!(*news.borrow_and_update(), 3);
        live.publish(&[(Feed::User(UserId(7)), 2)]);
        assert!(!news.has_changed().unwrap_or(true), "an older notice");
        live.end_sessions(&[key]);
        let ended = sub.ended.as_ref().map(|e| *e.borrow());
        assert_eq!(ended, Some(true));
        drop(news);
        drop(sub);
        assert_eq!(live.hub.sizes(), (0, 0));
    }
}
