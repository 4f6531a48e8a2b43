//! Configuration layers: built-in defaults, then an optional TOML file, then
//! `COLLOQ_*` environment variables, then command-line flags.

use colloq_http::Settings;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Uncased;

use crate::anyhow_free::Failure;
use crate::cli::{Cli, Command};

/// The names of environment variables, after `COLLOQ_`, that are not
/// `SECTION__KEY`: the short names docs/configuration.md lists and the log
/// settings. Other
/// `COLLOQ_` variables without `__` (the config path, test settings) are not
/// settings and are skipped.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("database_url", "database.url"),
    ("bind", "http.bind"),
    ("log", "log.filter"),
    ("log_format", "log.format"),
];

fn env_key(key: &figment::value::UncasedStr) -> Option<Uncased<'_>> {
    // figment hands the name over as it is spelled in the environment and
    // lower-cases it only afterwards.
    let name = key.as_str().to_ascii_lowercase();
    if let Some((_, path)) = SHORT_NAMES.iter().find(|(short, _)| *short == name) {
        return Some((*path).into());
    }
    name.contains("__").then(|| name.replace("__", ".").into())
}

/// The settings for `cli`, every layer applied, checked as far as they can be
/// without connecting to anything.
pub(crate) fn load(cli: &Cli) -> Result<Settings, Failure> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = &cli.config {
        if !path.is_file() {
            let what = if path.exists() {
                "is not a file"
            } else {
                "does not exist"
            };
            return Err(Failure::new(format!(
                "configuration file {} {what}",
                path.display()
            )));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    figment = figment.merge(Env::prefixed("COLLOQ_").filter_map(env_key));
    if let Some(url) = &cli.database_url {
        figment = figment.merge(Serialized::default("database.url", url));
    }
    if let Some(Command::Serve(serve)) = &cli.command
        && let Some(bind) = &serve.bind
    {
        figment = figment.merge(Serialized::default("http.bind", bind));
    }
    let settings: Settings = figment.extract()?;
    settings.validate().map_err(Failure::new)?;
    colloq_persistence::Engine::from_url(&settings.database.url)?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use figment::value::UncasedStr;

    use super::env_key;

    #[test]
    fn environment_names_map_to_settings_whatever_their_case() {
        let key = |name: &str| env_key(UncasedStr::new(name)).map(|k| k.as_str().to_owned());
        assert_eq!(key("DATABASE_URL").as_deref(), Some("database.url"));
        assert_eq!(key("BIND").as_deref(), Some("http.bind"));
        assert_eq!(key("LOG").as_deref(), Some("log.filter"));
        assert_eq!(key("LOG_FORMAT").as_deref(), Some("log.format"));
        assert_eq!(key("HTTP__WORKERS").as_deref(), Some("http.workers"));
        assert_eq!(key("FILES__S3__BUCKET").as_deref(), Some("files.s3.bucket"));
        assert_eq!(key("CONFIG"), None);
        assert_eq!(key("TEST_DATABASE_URL"), None);
    }
}
