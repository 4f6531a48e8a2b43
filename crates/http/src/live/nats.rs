//! Notices between nodes, over NATS core publish/subscribe.
//!
//! Subjects, under the deployment's name `D` (`events.deployment`):
//! `D.feed.<key>` carries a feed's newest position as decimal text (key 0 is
//! the staff feed), `D.session.ended` the key of a session that ended. Every
//! node subscribes to `D.feed.*` and `D.session.ended` and hands what it
//! hears to its [`Hub`]; two deployments on one NATS server share no subject.
//!
//! NATS core is at-most-once, and `async-nats` drops messages for a
//! subscriber that falls behind (reported as a slow consumer). Neither loses
//! an event, because events are read from the database; it can only delay a
//! stream until its next read. So whenever notices may have been missed (the
//! connection came back, or a subscriber fell behind), the hub tells every
//! stream to read again.

use std::sync::Arc;

use async_nats::{Client, ConnectOptions, Event};
use colloq_core::events::Notice;
use colloq_core::sessions::SessionKey;
use colloq_domain::event::Feed;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::Hub;
use crate::settings::EventsSettings;

/// Notices waiting for the NATS client. Sends never wait for NATS: when it is
/// away this long, notices are dropped (streams catch up at their next read).
const OUTBOX: usize = 4096;

/// What goes out.
#[derive(Debug)]
enum Outgoing {
    Feed(Feed, i64),
    Ended(SessionKey),
}

/// The NATS side of the bus.
#[derive(Clone, Debug)]
pub(crate) struct NatsBus {
    outbox: mpsc::Sender<Outgoing>,
}

fn feed_subject(deployment: &str, feed: Feed) -> String {
    format!("{deployment}.feed.{}", feed.key())
}

fn ended_subject(deployment: &str) -> String {
    format!("{deployment}.session.ended")
}

impl NatsBus {
    /// Connects (in the background: a NATS server that is down at start-up
    /// is retried for ever) and starts relaying.
    pub(crate) async fn connect(settings: &EventsSettings, hub: Arc<Hub>) -> Result<Self, String> {
        let events_hub = Arc::clone(&hub);
        let client = ConnectOptions::new()
            .name("colloq")
            .retry_on_initial_connect()
            .event_callback(move |event| {
                let hub = Arc::clone(&events_hub);
                async move { on_event(&hub, &event) }
            })
            .connect(settings.nats_url.as_str())
            .await
            .map_err(|e| format!("events.nats_url `{}`: {e}", settings.nats_url))?;
        let deployment = settings.deployment.clone();
        let feeds = client
            .subscribe(format!("{deployment}.feed.*"))
            .await
            .map_err(|e| format!("subscribing to NATS: {e}"))?;
        let ended = client
            .subscribe(ended_subject(&deployment))
            .await
            .map_err(|e| format!("subscribing to NATS: {e}"))?;
        tokio::spawn(relay_in(feeds, ended, hub));
        let (outbox, queued) = mpsc::channel(OUTBOX);
        tokio::spawn(relay_out(client, deployment, queued));
        Ok(Self { outbox })
    }

    pub(crate) fn publish_notices(&self, notices: &[Notice]) {
        for &(feed, position) in notices {
            self.send(Outgoing::Feed(feed, position));
        }
    }

    pub(crate) fn publish_ended(&self, sessions: &[SessionKey]) {
        for session in sessions {
            self.send(Outgoing::Ended(session.clone()));
        }
    }

    fn send(&self, notice: Outgoing) {
        if self.outbox.try_send(notice).is_err() {
            metrics::counter!("colloq_events_bus_dropped_total").increment(1);
        }
    }
}

fn on_event(hub: &Hub, event: &Event) {
    match event {
        // Anything published while this node was away was not heard.
        Event::Connected | Event::SlowConsumer(_) => {
            tracing::info!(%event, "NATS: every stream reads its feed again");
            hub.resync();
        }
        Event::Disconnected | Event::LameDuckMode | Event::ServerError(_) => {
            tracing::warn!(%event, "NATS");
        }
        _ => tracing::debug!(%event, "NATS"),
    }
}

async fn relay_out(client: Client, deployment: String, mut queued: mpsc::Receiver<Outgoing>) {
    let ended = ended_subject(&deployment);
    while let Some(notice) = queued.recv().await {
        let sent = match notice {
            Outgoing::Feed(feed, position) => {
                let subject = feed_subject(&deployment, feed);
                client.publish(subject, position.to_string().into()).await
            }
            Outgoing::Ended(session) => {
                let key = session.as_str().to_owned();
                client.publish(ended.clone(), key.into()).await
            }
        };
        if let Err(err) = sent {
            tracing::warn!(error = %err, "NATS: a notice was not published");
        }
    }
}

async fn relay_in(
    mut feeds: async_nats::Subscriber,
    mut ended: async_nats::Subscriber,
    hub: Arc<Hub>,
) {
    loop {
        tokio::select! {
            Some(message) = feeds.next() => {
                let key = message.subject.rsplit('.').next().and_then(|k| k.parse::<i64>().ok());
                let position = std::str::from_utf8(&message.payload)
                    .ok()
                    .and_then(|p| p.parse::<i64>().ok());
                if let (Some(key), Some(position)) = (key, position) {
                    hub.notify(Feed::from_key(key), position);
                }
            }
            Some(message) = ended.next() => {
                if let Ok(key) = std::str::from_utf8(&message.payload) {
                    hub.end_session(&SessionKey::from_text(key));
                }
            }
            else => break,
        }
    }
}
