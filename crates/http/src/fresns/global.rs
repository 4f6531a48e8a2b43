//! What the official clients read before any conversation call, in upstream
//! v2.21.4's shapes: the configuration items of `global/configs`, the code
//! table of `global/code-messages`, `common/ip-info` without an IP plugin,
//! and the static `status.json`.

use std::net::IpAddr;

use colloq_domain::file::FileKind;
use serde_json::{Map, Value, json};

use super::codes::{Lang, all_messages};
use crate::settings::Settings;

/// How long clients may cache the configuration items, in minutes
/// (upstream's seeded `cache_minutes`).
const CACHE_MINUTES: i64 = 10;

/// One configuration item: its key, its tag, and its value for a language.
struct Item {
    key: &'static str,
    tag: &'static str,
    value: Value,
}

/// Text in each of the three languages colloq speaks.
fn words(lang: Lang, en: &str, hans: &str, hant: &str) -> Value {
    Value::from(match lang {
        Lang::En => en,
        Lang::ZhHans => hans,
        Lang::ZhHant => hant,
    })
}

/// One entry of `language_menus`.
#[expect(clippy::too_many_arguments, reason = "one row of a fixed table")]
fn language(
    rating: i64,
    tag: &str,
    code: &str,
    name: &str,
    area: Option<(&str, &str)>,
    length_unit: &str,
    date_format: &str,
    ago: [&str; 4],
) -> Value {
    json!({
        "rating": rating,
        "langCode": code,
        "langName": name,
        "areaStatus": area.is_some(),
        "areaCode": area.map(|(code, _)| code),
        "areaName": area.map(|(_, name)| name),
        "langTag": tag,
        "writingDirection": "ltr",
        "lengthUnit": length_unit,
        "dateFormat": date_format,
        "timeFormatMinute": ago[0],
        "timeFormatHour": ago[1],
        "timeFormatDay": ago[2],
        "timeFormatMonth": ago[3],
        "packVersion": 1,
        "isEnabled": true,
    })
}

fn language_menus() -> Value {
    json!([
        language(
            1,
            "en",
            "en",
            "English",
            None,
            "mi",
            "m/d/Y",
            [
                "{n} minute ago",
                "{n} hour ago",
                "{n} day ago",
                "{n} month ago"
            ]
        ),
        language(
            2,
            "zh-Hans",
            "zh",
            "中文",
            Some(("Hans", "简体")),
            "km",
            "Y-m-d",
            ["{n} 分钟前", "{n} 小时前", "{n} 天前", "{n} 个月前"]
        ),
        language(
            3,
            "zh-Hant",
            "zh",
            "中文",
            Some(("Hant", "繁體")),
            "km",
            "Y-m-d",
            ["{n} 分鐘前", "{n} 小時前", "{n} 天前", "{n} 個月前"]
        ),
    ])
}

/// The interface strings the clients' conversation and account pages read,
/// in upstream's wording.
fn language_pack(lang: Lang) -> Value {
    let rows: [(&str, [&str; 3]); 7] = [
        ("delete", ["Delete", "删除", "刪除"]),
        (
            "userDeactivate",
            ["User Deactivate", "用户已停用", "用戶已停用"],
        ),
        ("cancel", ["Cancel", "取消", "取消"]),
        ("confirm", ["Confirm", "确认", "確認"]),
        ("inProgress", ["In Progress...", "处理中...", "處理中..."]),
        (
            "isLatestVersion",
            [
                "Currently the latest version",
                "当前已是最新版本",
                "當前已是最新版本",
            ],
        ),
        ("upgrade", ["Upgrade Now", "立即升级", "立即升級"]),
    ];
    rows.iter()
        .map(|(key, [en, hans, hant])| ((*key).to_owned(), words(lang, en, hans, hant)))
        .collect::<Map<_, _>>()
        .into()
}

/// A file kind's upload items, from the upload settings and the formats the
/// upload accepts.
fn file_items(settings: &Settings, kind: FileKind) -> [Item; 2] {
    let limits = &settings.files.max_mib;
    let (tag, extensions_key, size_key, mib) = match kind {
        FileKind::Image => (
            "storageImages",
            "image_extension_names",
            "image_max_size",
            limits.image,
        ),
        FileKind::Video => (
            "storageVideos",
            "video_extension_names",
            "video_max_size",
            limits.video,
        ),
        FileKind::Audio => (
            "storageAudios",
            "audio_extension_names",
            "audio_max_size",
            limits.audio,
        ),
        FileKind::Document => (
            "storageDocuments",
            "document_extension_names",
            "document_max_size",
            limits.document,
        ),
    };
    let extensions = colloq_storage::inspect::extensions(kind).join(",");
    [
        Item {
            key: extensions_key,
            tag,
            value: extensions.into(),
        },
        Item {
            key: size_key,
            tag,
            value: mib.into(),
        },
    ]
}

/// Every item colloq serves, in `lang`.
fn items(settings: &Settings, lang: Lang) -> Vec<Item> {
    let fresns = &settings.fresns;
    let text_or_null = |s: &str| {
        if s.is_empty() { Value::Null } else { s.into() }
    };
    let mut items = vec![
        Item {
            key: "site_name",
            tag: "general",
            value: fresns.site_name.as_str().into(),
        },
        Item {
            key: "site_logo",
            tag: "general",
            value: text_or_null(&fresns.site_logo),
        },
        Item {
            key: "site_url",
            tag: "general",
            value: text_or_null(&fresns.site_url),
        },
        Item {
            key: "site_mode",
            tag: "general",
            value: "public".into(),
        },
        Item {
            key: "menu_conversations",
            tag: "menus",
            value: words(lang, "Messages", "对话", "對話"),
        },
        Item {
            key: "menu_account",
            tag: "menus",
            value: words(lang, "User", "用户中心", "個人中心"),
        },
        Item {
            key: "default_language",
            tag: "languages",
            value: "en".into(),
        },
        Item {
            key: "language_menus",
            tag: "languages",
            value: language_menus(),
        },
        Item {
            key: "language_pack_contents",
            tag: "languages",
            value: language_pack(lang),
        },
        Item {
            key: "conversation_status",
            tag: "interactions",
            value: fresns.conversation_enabled.into(),
        },
        Item {
            key: "conversation_files",
            tag: "interactions",
            value: fresns.conversation_files.clone().into(),
        },
        Item {
            key: "cache_minutes",
            tag: "systems",
            value: CACHE_MINUTES.into(),
        },
    ];
    for kind in FileKind::ALL {
        items.extend(file_items(settings, kind));
    }
    items
}

/// A comma-separated parameter as a list of its non-empty parts.
fn list(raw: Option<&str>) -> Vec<&str> {
    raw.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// `global/configs`: every item, or those named by `keys` or tagged with one
/// of `tags`, as one flat object.
pub(crate) fn configs(
    settings: &Settings,
    lang: Lang,
    keys: Option<&str>,
    tags: Option<&str>,
) -> Value {
    let (keys, tags) = (list(keys), list(tags));
    let everything = keys.is_empty() && tags.is_empty();
    items(settings, lang)
        .into_iter()
        .filter(|item| everything || keys.contains(&item.key) || tags.contains(&item.tag))
        .map(|item| (item.key.to_owned(), item.value))
        .collect::<Map<_, _>>()
        .into()
}

/// `global/code-messages`: colloq's code table in `lang`, all of it or the
/// `codes` asked for (a plugin's `fskey` has none).
pub(crate) fn code_messages(
    lang: Lang,
    fskey: Option<&str>,
    all: bool,
    codes: Option<&str>,
) -> Value {
    if fskey.is_some_and(|k| !k.is_empty() && k != "Fresns") {
        return json!({});
    }
    let wanted: Vec<i32> = list(codes).iter().filter_map(|c| c.parse().ok()).collect();
    all_messages(lang)
        .filter(|(code, _)| all || wanted.is_empty() || wanted.contains(code))
        .map(|(code, text)| (code.to_string(), Value::from(text)))
        .collect::<Map<_, _>>()
        .into()
}

/// `common/ip-info` as upstream answers without an IP plugin: the address,
/// and the caller's port when it asked about itself; nothing located.
pub(crate) fn ip_info(ip: IpAddr, port: Option<u16>) -> Value {
    let (v4, v6) = match ip {
        IpAddr::V4(v4) => (Some(v4.to_string()), None),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (Some(v4.to_string()), None),
            None => (None, Some(v6.to_string())),
        },
    };
    json!({
        "networkIpv4": v4,
        "networkIpv6": v6,
        "networkPort": port,
        "networkTimezone": null,
        "networkOffset": null,
        "networkCurrency": null,
        "networkIsp": null,
        "networkOrg": null,
        "networkAs": null,
        "networkAsName": null,
        "networkMobile": false,
        "networkProxy": false,
        "networkHosting": false,
        "mapId": 1,
        "latitude": null,
        "longitude": null,
        "scale": null,
        "continent": null,
        "continentCode": null,
        "country": null,
        "countryCode": null,
        "region": null,
        "regionCode": null,
        "city": null,
        "district": null,
        "zip": null,
    })
}

/// The static `status.json` a Fresns site serves (no envelope, no signature):
/// the clients read `activate`.
pub(crate) fn status() -> Value {
    let platform = |store: (&str, &str), packages: Option<Value>| {
        let mut entry = json!({"version": "", "describe": {"default": ""}});
        if let Some(map) = entry.as_object_mut() {
            if !store.0.is_empty() {
                map.insert(store.0.to_owned(), store.1.into());
            }
            if let Some(packages) = packages {
                map.insert("packages".to_owned(), packages);
            }
        }
        entry
    };
    let ios = platform(("appStore", ""), None);
    let android = platform(("googlePlay", ""), Some(json!({"apk": ""})));
    json!({
        "name": "Fresns",
        "version": "2.21.4",
        "activate": true,
        "deactivateDescribe": {"default": ""},
        "client": {
            "mobile": {"ios": ios, "android": android},
            "tablet": {"ios": ios, "android": android},
            "desktop": {
                "macos": platform(("", ""), Some(json!({"intel": "", "appleSilicon": ""}))),
                "windows": platform(("", ""), Some(json!({"x86": "", "x64": ""}))),
                "linux": platform(("", ""), Some(json!({
                    "x86Deb": "", "x86Rpm": "", "x86AppImage": "",
                    "armDeb": "", "armRpm": "", "armAppImage": "", "mipsDeb": "",
                }))),
            },
        },
    })
}
