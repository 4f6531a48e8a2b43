//! The log subscriber: the filter and format from the settings, colour only
//! when stderr is a terminal, and a client's malformed HTTP kept out of the
//! error level.

use std::io::IsTerminal as _;

use colloq_http::settings::{LogFormat, LogSettings};
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{FilterExt as _, LevelFilter, filter_fn};
use tracing_subscriber::layer::{Context, Filter, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

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
    // Both layers are filtered so that every callsite keeps a static interest
    // and the registry a maximum level: an unfiltered layer would make every
    // `trace!` of every dependency a dynamic check on the request path.
    let noise_only =
        filter_fn(|meta| *meta.level() == Level::ERROR && meta.target() == ACTIX_DISPATCHER)
            .with_max_level_hint(LevelFilter::ERROR);
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter.and(NotClientNoise)))
        .with(Demote.with_filter(noise_only))
        .try_init()
        .map_err(|e| Failure::new(e.to_string()))
}

/// actix-http logs a request it cannot parse at ERROR ("stream error: request
/// parse error: …"): a scanner or a broken client would fill the error log,
/// and alerts on it, with what is the client's fault. Such an event is
/// dropped by [`NotClientNoise`] and said again by [`Demote`] at DEBUG.
fn is_client_noise(event: &Event<'_>) -> bool {
    let meta = event.metadata();
    if *meta.level() != Level::ERROR || meta.target() != ACTIX_DISPATCHER {
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

/// Where actix-http logs a request it could not parse.
const ACTIX_DISPATCHER: &str = "actix_http::h1::dispatcher";

/// Lets everything through but [`is_client_noise`]; only the dispatcher's
/// ERROR callsites need a look at the event.
struct NotClientNoise;

impl<S: Subscriber> Filter<S> for NotClientNoise {
    fn enabled(&self, _meta: &tracing::Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn callsite_enabled(&self, meta: &'static tracing::Metadata<'static>) -> Interest {
        if *meta.level() == Level::ERROR && meta.target() == ACTIX_DISPATCHER {
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        !is_client_noise(event)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
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
