//! The `[fresns]` section of the settings: this dialect's own.

use colloq_domain::file::FileKind;
use serde::{Deserialize, Serialize};

use super::SignatureZone;

/// Fresns dialect settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FresnsSettings {
    /// `COLLOQ_FRESNS__CONVERSATION_ENABLED`: when false, sending answers 36600.
    /// Default true.
    pub conversation_enabled: bool,
    /// `COLLOQ_FRESNS__SITE_URL`: prefix of User Info `url` (`<site_url>/u/<uid>`),
    /// also served as the `site_url` configuration item.
    pub site_url: String,
    /// `COLLOQ_FRESNS__SITE_NAME`: the `site_name` configuration item clients
    /// show. Default `colloq`.
    pub site_name: String,
    /// `COLLOQ_FRESNS__SITE_LOGO`: the URL of the `site_logo` configuration
    /// item. Default: none (`null`).
    pub site_logo: String,
    /// `COLLOQ_FRESNS__DEFAULT_AVATAR`: avatar of users without one.
    pub default_avatar: String,
    /// `COLLOQ_FRESNS__DEACTIVATE_AVATAR`: avatar of disabled and missing users.
    pub deactivate_avatar: String,
    /// Words that stop a message from being sent (36605), matched
    /// case-insensitively anywhere in the text (TOML list `fresns.block_words`).
    pub block_words: Vec<String>,
    /// `fresns.conversation_files`: the kinds of file a conversation accepts
    /// (`image`, `video`, `audio`, `document`). Default `["image"]`, upstream's.
    pub conversation_files: Vec<String>,
    /// `COLLOQ_FRESNS__SIGNATURE_CLOCK_ZONE`: the zone the Fresns site that
    /// colloq replaces runs in (its `DB_TIMEZONE`): an IANA name such as
    /// `Asia/Shanghai` or an offset such as `+08:00`. Upstream checks signature
    /// timestamps against true Unix time minus that zone's offset, and its
    /// clients sign accordingly. Default `UTC` (true Unix time).
    pub signature_clock_zone: SignatureZone,
}

impl Default for FresnsSettings {
    fn default() -> Self {
        Self {
            conversation_enabled: true,
            site_url: String::new(),
            site_name: "colloq".to_owned(),
            site_logo: String::new(),
            default_avatar: String::new(),
            deactivate_avatar: String::new(),
            block_words: Vec::new(),
            conversation_files: vec!["image".to_owned()],
            signature_clock_zone: SignatureZone::default(),
        }
    }
}

impl FresnsSettings {
    /// Checks the section (see `Settings::validate`).
    ///
    /// # Errors
    /// A message naming the first bad setting.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(kind) = self
            .conversation_files
            .iter()
            .find(|k| FileKind::parse(k).is_none())
        {
            return Err(format!(
                "fresns.conversation_files names `{kind}`: expected image, video, audio or document"
            ));
        }
        Ok(())
    }

    /// The kinds of file conversations accept (`conversation_files`); names
    /// that are no kind were refused by `Settings::validate`.
    pub(crate) fn conversation_kinds(&self) -> Vec<FileKind> {
        self.conversation_files
            .iter()
            .filter_map(|k| FileKind::parse(k))
            .collect()
    }
}
