//! Fresns "User Info", upstream's rendering of a profile, with every key in upstream's order;
//! concepts colloq does not model carry neutral values (zero counters, empty
//! lists, one default role). The placeholder for a missing or deleted user
//! (upstream's deactivated-user stand-in), and the `whitelistKeys` /
//! `blacklistKeys` filter.

use std::sync::OnceLock;

use colloq_domain::user::User;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::codes::{Code, Lang};
use super::time::{TimeText, TimeView};
use crate::settings::FresnsSettings;

/// The viewer's messaging permission towards the user: `Ok` or a Fresns code.
pub(crate) type Permission = Result<(), Code>;

fn stats() -> Value {
    let mut m = Map::new();
    for verb in ["like", "dislike", "follow", "block"] {
        for target in ["User", "Group", "Hashtag", "Post", "Comment"] {
            m.insert(format!("{verb}{target}Count"), json!(0));
        }
    }
    for key in [
        "viewMeCount",
        "likeMeCount",
        "dislikeMeCount",
        "followMeCount",
        "blockMeCount",
    ] {
        m.insert(key.to_owned(), json!(0));
    }
    for kind in ["post", "comment"] {
        for what in ["Publish", "Digest", "Like", "Dislike", "Follow", "Block"] {
            m.insert(format!("{kind}{what}Count"), json!(0));
        }
    }
    for n in 1..=5 {
        m.insert(format!("extcredits{n}"), Value::Null);
        m.insert(format!("extcredits{n}State"), json!(1));
        m.insert(format!("extcredits{n}Name"), Value::Null);
        m.insert(format!("extcredits{n}Unit"), Value::Null);
    }
    Value::Object(m)
}

fn operations() -> Value {
    json!({"customizes": [], "buttonIcons": [], "diversifyImages": [], "tips": []})
}

fn extends() -> Value {
    json!({"textBox": [], "infoBox": [], "interactionBox": []})
}

fn role_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "User",
        Lang::ZhHans => "普通用户",
        Lang::ZhHant => "普通用戶",
    }
}

fn roles(lang: Lang) -> Value {
    json!([{
        "rid": 1, "isMain": true, "nicknameColor": null, "name": role_name(lang), "nameDisplay": false,
        "icon": null, "iconDisplay": false, "expiryDateTime": null, "rankState": 1, "status": true
    }])
}

fn interaction() -> Value {
    json!({
        "userName": "User", "userUidName": "UID", "userUsernameName": "Username",
        "userNicknameName": "Nickname", "userRoleName": "Role", "userBioName": "Bio",
        "followSetting": false, "followName": "Follow", "likeSetting": false, "likeName": "Like",
        "dislikeSetting": false, "dislikeName": "Dislike", "blockSetting": false, "blockName": "Block",
        "publishPostName": "Post", "publishCommentName": "Comment",
        "likeStatus": false, "dislikeStatus": false, "followStatus": false, "followMeStatus": false,
        "followNote": null, "followExpired": true, "followExpiryDateTime": null,
        "blockStatus": false, "blockMeStatus": false, "blockNote": null
    })
}

/// The parts of User Info that are the same for every user (per language),
/// serialised once per process: they are two thirds of its bytes, and building
/// them as `Value` trees for each user was most of a message page's CPU.
struct Constant {
    stats: Box<RawValue>,
    operations: Box<RawValue>,
    extends: Box<RawValue>,
    role_permissions: Box<RawValue>,
    interaction: Box<RawValue>,
    roles: [Box<RawValue>; 3],
}

fn raw(value: &Value) -> Box<RawValue> {
    // Serialising a `Value` cannot fail: its keys are strings.
    serde_json::value::to_raw_value(value).unwrap_or_else(|_never| RawValue::NULL.to_owned())
}

fn constant() -> &'static Constant {
    static CONSTANT: OnceLock<Constant> = OnceLock::new();
    CONSTANT.get_or_init(|| Constant {
        stats: raw(&stats()),
        operations: raw(&operations()),
        extends: raw(&extends()),
        role_permissions: raw(&json!({"rid": 1, "conversation": true})),
        interaction: raw(&interaction()),
        roles: [Lang::En, Lang::ZhHans, Lang::ZhHant].map(|lang| raw(&roles(lang))),
    })
}

/// The viewer's messaging permission as User Info shows it.
#[derive(Debug, Serialize)]
struct ConversationPermission {
    status: bool,
    code: i32,
    message: &'static str,
}

/// Fresns User Info, keys in upstream's order. `()` is `null` and `[(); 0]`
/// is `[]`: keys colloq has no data for, written as upstream's defaults.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserInfo<'a> {
    fsid: i64,
    uid: i64,
    username: &'a str,
    url: String,
    nickname: &'a str,
    avatar: &'a str,
    decorate: (),
    banner: (),
    gender: i32,
    birthday: (),
    bio: (),
    location: (),
    conversation_limit: i32,
    comment_limit: i32,
    verified_status: bool,
    verified_icon: (),
    verified_desc: (),
    verified_date_time: (),
    expired: bool,
    expiry_date_time: (),
    last_publish_post: (),
    last_publish_comment: (),
    last_edit_username: (),
    last_edit_nickname: (),
    register_date: TimeText,
    has_password: bool,
    rank_state: i32,
    status: bool,
    wait_delete: bool,
    wait_delete_date_time: (),
    bio_html: (),
    nickname_color: (),
    rid: i32,
    role_name: &'static str,
    role_name_display: bool,
    role_icon: (),
    role_icon_display: bool,
    role_expiry_date_time: (),
    role_rank_state: i32,
    role_permissions: &'static RawValue,
    role_status: bool,
    stats: &'static RawValue,
    archives: [(); 0],
    operations: &'static RawValue,
    extends: &'static RawValue,
    roles: &'static RawValue,
    interaction: &'static RawValue,
    conversation: ConversationPermission,
}

/// The full User Info of `user` as `viewer_permission` sees it.
pub(crate) fn user_info<'a>(
    user: &'a User,
    permission: Permission,
    view: TimeView,
    settings: &'a FresnsSettings,
) -> UserInfo<'a> {
    let avatar = if !user.enabled {
        &settings.deactivate_avatar
    } else if user.avatar_url.is_empty() {
        &settings.default_avatar
    } else {
        &user.avatar_url
    };
    let code = permission.err().unwrap_or(Code::Success);
    let fixed = constant();
    UserInfo {
        fsid: user.uid,
        uid: user.uid,
        username: &user.username,
        url: format!("{}/u/{}", settings.site_url.trim_end_matches('/'), user.uid),
        nickname: &user.nickname,
        avatar,
        decorate: (),
        banner: (),
        gender: 1,
        birthday: (),
        bio: (),
        location: (),
        conversation_limit: user.conversation_limit.code(),
        comment_limit: 1,
        verified_status: user.verified,
        verified_icon: (),
        verified_desc: (),
        verified_date_time: (),
        expired: false,
        expiry_date_time: (),
        last_publish_post: (),
        last_publish_comment: (),
        last_edit_username: (),
        last_edit_nickname: (),
        register_date: view.datetime(user.created_at),
        has_password: user.has_password,
        rank_state: 1,
        status: user.enabled,
        wait_delete: false,
        wait_delete_date_time: (),
        bio_html: (),
        nickname_color: (),
        rid: 1,
        role_name: role_name(view.lang),
        role_name_display: false,
        role_icon: (),
        role_icon_display: false,
        role_expiry_date_time: (),
        role_rank_state: 1,
        role_permissions: &fixed.role_permissions,
        role_status: true,
        stats: &fixed.stats,
        archives: [],
        operations: &fixed.operations,
        extends: &fixed.extends,
        roles: &fixed.roles[match view.lang {
            Lang::En => 0,
            Lang::ZhHans => 1,
            Lang::ZhHant => 2,
        }],
        interaction: &fixed.interaction,
        conversation: ConversationPermission {
            status: code == Code::Success,
            code: code.number(),
            message: code.message(view.lang),
        },
    }
}

/// What stands in for a missing or deleted user, as upstream's: no `roles`,
/// `interaction` or `conversation`, and never filtered.
pub(crate) fn placeholder(settings: &FresnsSettings) -> Value {
    json!({
        "fsid": null, "uid": null, "username": null, "url": null, "nickname": null,
        "avatar": settings.deactivate_avatar, "decorate": null, "banner": null, "gender": 1,
        "birthday": null, "bio": null, "location": null, "conversationLimit": 1, "commentLimit": 1,
        "timezone": null, "verifiedStatus": false, "verifiedIcon": null, "verifiedDesc": null,
        "verifiedDateTime": null, "expired": false, "expiryDateTime": null, "lastPublishPost": null,
        "lastPublishComment": null, "lastEditUsername": null, "lastEditNickname": null,
        "registerDate": null, "hasPassword": false, "rankState": 1, "status": false,
        "waitDelete": false, "waitDeleteDateTime": null, "bioHtml": null, "nicknameColor": null,
        "rid": null, "roleName": null, "roleNameDisplay": false, "roleIcon": null,
        "roleIconDisplay": false, "roleExpiryDateTime": null, "roleRankState": 1,
        "rolePermissions": [], "roleStatus": true, "stats": null, "archives": [],
        "operations": operations(), "extends": extends()
    })
}

/// The `whitelistKeys` / `blacklistKeys` filter: split on `,` with no trimming,
/// empty pieces dropped; a non-empty whitelist wins over the blacklist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum KeyFilter {
    /// No filtering.
    #[default]
    None,
    /// Keep only these paths.
    Keep(Vec<String>),
    /// Remove these paths.
    Drop(Vec<String>),
}

impl KeyFilter {
    pub(crate) fn new(whitelist: Option<&str>, blacklist: Option<&str>) -> Self {
        let split = |raw: Option<&str>| -> Vec<String> {
            raw.unwrap_or_default()
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let keep = split(whitelist);
        if !keep.is_empty() {
            return Self::Keep(keep);
        }
        let drop = split(blacklist);
        if drop.is_empty() {
            Self::None
        } else {
            Self::Drop(drop)
        }
    }

    /// Filters one User Info object (Laravel `Arr::dot`, select, `Arr::undot`).
    pub(crate) fn apply(&self, value: Value) -> Value {
        let (keys, keep) = match self {
            Self::None => return value,
            Self::Keep(keys) => (keys, true),
            Self::Drop(keys) => (keys, false),
        };
        let mut flat = Vec::new();
        flatten(String::new(), value, &mut flat);
        let selected = |path: &str| {
            keys.iter().any(|k| {
                path == k
                    || path
                        .strip_prefix(k.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        let mut root = Map::new();
        for (path, leaf) in flat {
            if selected(&path) == keep {
                insert(&mut root, &path, leaf);
            }
        }
        php_array(Value::Object(root))
    }
}

/// Flattens to dot paths; non-empty objects and lists recurse (list items by
/// index), everything else is a leaf.
fn flatten(prefix: String, value: Value, out: &mut Vec<(String, Value)>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(join(&k), v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.into_iter().enumerate() {
                flatten(join(&i.to_string()), v, out);
            }
        }
        leaf => out.push((prefix, leaf)),
    }
}

fn insert(root: &mut Map<String, Value>, path: &str, leaf: Value) {
    match path.split_once('.') {
        None => {
            root.insert(path.to_owned(), leaf);
        }
        Some((head, rest)) => {
            let child = root
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(map) = child {
                insert(map, rest, leaf);
            }
        }
    }
}

/// Encodes rebuilt objects as PHP would: keys `0..n` in order become a list,
/// and an empty result is `[]`.
fn php_array(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if map.is_empty() {
                return json!([]);
            }
            let sequential = map.keys().enumerate().all(|(i, k)| *k == i.to_string());
            if sequential {
                Value::Array(map.into_iter().map(|(_, v)| php_array(v)).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, php_array(v))).collect())
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "uid": 7, "nickname": "n",
            "stats": {"a": 1, "b": 2},
            "roles": [{"rid": 1, "name": "x"}, {"rid": 2, "name": "y"}],
            "archives": [],
            "conversation": {"status": true}
        })
    }

    #[test]
    fn whitelists_select_paths_and_prefixes_in_order() {
        let f = KeyFilter::new(Some("stats,uid"), Some("uid"));
        assert_eq!(
            f.apply(sample()),
            json!({"uid": 7, "stats": {"a": 1, "b": 2}})
        );
        let keys: Vec<String> = f
            .apply(sample())
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, vec!["uid", "stats"], "original order is kept");
    }

    #[test]
    fn list_indices_work_and_partial_lists_become_objects() {
        assert_eq!(
            KeyFilter::new(Some("roles.0"), None).apply(sample()),
            json!({"roles": [{"rid": 1, "name": "x"}]})
        );
        assert_eq!(
            KeyFilter::new(Some("roles.1.rid"), None).apply(sample()),
            json!({"roles": {"1": {"rid": 2}}})
        );
        assert_eq!(
            KeyFilter::new(Some("archives"), None).apply(sample()),
            json!({"archives": []})
        );
    }

    #[test]
    fn blacklists_remove_and_empty_results_are_php_arrays() {
        assert_eq!(
            KeyFilter::new(None, Some("stats.a,roles,archives,conversation")).apply(sample()),
            json!({"uid": 7, "nickname": "n", "stats": {"b": 2}})
        );
        assert_eq!(
            KeyFilter::new(Some("nothing"), None).apply(sample()),
            json!([])
        );
        assert_eq!(
            KeyFilter::new(Some(" uid"), None).apply(sample()),
            json!([]),
            "no trimming"
        );
        assert_eq!(
            KeyFilter::new(Some(",,"), Some("")).apply(sample()),
            sample()
        );
    }
}
