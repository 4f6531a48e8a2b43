//! The log subscriber: the filter and format from the settings, colour only
//! when stderr is a terminal, and a client's malformed HTTP kept out of the
//! error level.

use std::io::IsTerminal as _;

use colloq_http::settings::{LogFormat, LogSettings};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::anyhow_free::Failure;

/// Sets the process's subscriber.
///
/// # Errors
/// When the filter does not parse, or a subscriber is set already.
pub(crate) fn init(settings: &LogSettings) -> Result<(), Failure> {
    let filter = EnvFilter::try_new(&settings.filter).map_err(|e| {
        Failure::new(format!(
            "log.filter (COLLOQ_LOG) `{}` is not a valid filter: {e}",
            settings.filter
        ))
    })?;
    let ansi = std::io::stderr().is_terminal();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let fmt = match settings.format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter).with_filter(NotClientNoise))
        .with(Demote)
        .try_init()
        .map_err(|e| Failure::new(e.to_string()))
}

/// actix-http logs a request it cannot parse at ERROR ("stream error: request
/// parse error: …"): a scanner or a broken client would fill the error log,
/// and alerts on it, with what is the client's fault. Such an event is
/// dropped by [`NotClientNoise`] and said again by [`Demote`] at DEBUG.
fn is_client_noise(event: &Event<'_>) -> bool {
    let meta = event.metadata();
    if *meta.level() != Level::ERROR || meta.target() != "actix_http::h1::dispatcher" {
        return false;
    }
    message(event).is_some_and(|m| m.starts_with("stream error"))
}

fn message(event: &Event<'_>) -> Option<String> {
    struct Message(Option<String>);
    impl Visit for Message {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }
    let mut found = Message(None);
    event.record(&mut found);
    found.0
}

/// Lets everything through but [`is_client_noise`].
struct NotClientNoise;

impl<S: Subscriber> Filter<S> for NotClientNoise {
    fn enabled(&self, _meta: &tracing::Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        !is_client_noise(event)
    }
}

/// Says [`is_client_noise`] again at DEBUG, under `colloq::http`.
struct Demote;

impl<S: Subscriber> Layer<S> for Demote {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        if is_client_noise(event) {
            let text = message(event).unwrap_or_default();
            tracing::debug!(target: "colloq::http", "malformed request from a client: {text}");
        }
    }
}
