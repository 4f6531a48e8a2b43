//! Configuration layers: built-in defaults, then an optional TOML file, then
//! `COLLOQ_*` environment variables, then command-line flags.

use colloq_http::Settings;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Uncased;

use crate::anyhow_free::Failure;
use crate::cli::Cli;

/// `COLLOQ_DATABASE_URL` and `COLLOQ_BIND` are the contract's short names;
/// everything else is `COLLOQ_SECTION__KEY`. Other `COLLOQ_` variables (the log
/// filter, the config path, test settings) are not settings and are skipped.
fn env_key(key: &figment::value::UncasedStr) -> Option<Uncased<'_>> {
    match key.as_str() {
        "database_url" => Some("database.url".into()),
        "bind" => Some("http.bind".into()),
        other if other.contains("__") => Some(other.replace("__", ".").into()),
        _ => None,
    }
}

pub(crate) fn load(cli: &Cli) -> Result<Settings, Failure> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = &cli.config {
        if !path.exists() {
            return Err(Failure::new(format!(
                "configuration file {} does not exist",
                path.display()
            )));
        }
        figment = figment.merge(Toml::file(path));
    }
    figment = figment.merge(Env::prefixed("COLLOQ_").filter_map(env_key));
    if let Some(url) = &cli.database_url {
        figment = figment.merge(Serialized::default("database.url", url));
    }
    if let Some(bind) = &cli.bind {
        figment = figment.merge(Serialized::default("http.bind", bind));
    }
    Ok(figment.extract()?)
}
