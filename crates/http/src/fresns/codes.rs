//! Fresns code messages in the three languages colloq speaks, and the language
//! a request asks for.

use actix_web::http::header::HeaderMap;

/// A language of code messages and dates (`X-Fresns-Client-Lang-Tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum Lang {
    /// `en` (also every unknown tag).
    #[default]
    En,
    /// `zh-Hans`.
    ZhHans,
    /// `zh-Hant`.
    ZhHant,
}

impl Lang {
    /// The language of a request; unknown or missing tags fall back to `en`.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let tag = headers
            .get("x-fresns-client-lang-tag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match tag.as_str() {
            "zh-hans" | "zh-cn" | "zh-sg" => Self::ZhHans,
            "zh-hant" | "zh-tw" | "zh-hk" => Self::ZhHant,
            _ => Self::En,
        }
    }
}

/// Every code colloq answers with its message in `en`, `zh-Hans` and
/// `zh-Hant` (upstream's wording), sorted by code.
const MESSAGES: &[(i32, [&str; 3])] = &[
    (0, ["Success", "成功", "成功"]),
    (
        21005,
        [
            "Command word request parameter error",
            "命令字请求参数错误",
            "命令字請求參數錯誤",
        ],
    ),
    (30000, ["Parameter error", "参数错误", "參數錯誤"]),
    (
        30002,
        [
            "Parameter values do not meet the requirements",
            "参数值不符合要求",
            "參數值不符合要求",
        ],
    ),
    (
        31102,
        [
            "Platform ID and Key do not match",
            "平台编号与密钥不匹配",
            "平台編號與密鑰不匹配",
        ],
    ),
    (
        31103,
        [
            "Platform ID does not match the account or user",
            "平台编号与账号或用户不匹配",
            "平台編號與帳號或用戶不匹配",
        ],
    ),
    (
        31301,
        [
            "App ID does not exist or is disabled",
            "应用 ID 不存在或已禁用",
            "應用 ID 不存在或已禁用",
        ],
    ),
    (31302, ["Signature error", "签名错误", "簽名錯誤"]),
    (31303, ["Signature expired", "签名已过期", "簽名已過期"]),
    (
        31304,
        [
            "The key does not have the right to request for the interface",
            "该密钥无权请求此接口",
            "該密鑰無權請求此接口",
        ],
    ),
    (
        31305,
        [
            "Read-only key are not entitled to request for the interface",
            "只读密钥无权请求此接口",
            "唯讀密鑰無權請求此接口",
        ],
    ),
    (31402, ["Timezone incorrect", "时区错误", "時區錯誤"]),
    (
        31501,
        [
            "Account not logged in, Unable to use",
            "账号未登录，无法使用",
            "帳號未登錄，無法使用",
        ],
    ),
    (
        31502,
        [
            "Wrong account or record not exist",
            "账号错误或者记录不存在",
            "帳號錯誤或者記錄不存在",
        ],
    ),
    (
        31504,
        [
            "Login token is no longer valid, please login again",
            "登录令牌已失效，请重新登录",
            "登錄令牌已失效，請重新登錄",
        ],
    ),
    (
        31505,
        [
            "Account login token are incorrect or do not exist",
            "账号登录令牌错误或不存在",
            "帳號登錄令牌錯誤或不存在",
        ],
    ),
    (
        31601,
        [
            "User not logged in, Unable to use",
            "用户未登录，无法使用",
            "用戶未登錄，無法使用",
        ],
    ),
    (
        31602,
        [
            "Wrong user or record not exist",
            "用户错误或者记录不存在",
            "用戶錯誤或者記錄不存在",
        ],
    ),
    (
        31603,
        [
            "User login token are incorrect or do not exist",
            "用户登录令牌错误或不存在",
            "用戶登錄令牌錯誤或不存在",
        ],
    ),
    (
        33203,
        [
            "Verify code incorrect or expired",
            "验证码不正确或已过期",
            "驗證碼不正確或已過期",
        ],
    ),
    (
        34111,
        [
            "Account password or verification code cannot be empty",
            "账号密码或验证码不能为空",
            "帳號密碼或驗證碼不能為空",
        ],
    ),
    (
        34304,
        ["Incorrect account password", "账号密码错误", "帳號密碼錯誤"],
    ),
    (
        34306,
        [
            "The error has exceeded the system limit. Please log in again 1 hour later",
            "错误已超系统限制，请 1 小时后再登录",
            "錯誤已超系統限制，請 1 小時後再登錄",
        ],
    ),
    (
        35201,
        [
            "Current user not exist or not belong to the current account",
            "当前用户不存在或不属于当前账号",
            "當前用戶不存在或不屬於當前帳號",
        ],
    ),
    (
        35202,
        [
            "Current user has been banned",
            "当前用户已被禁用",
            "當前用戶已被禁用",
        ],
    ),
    (
        35203,
        [
            "The user has been logged out",
            "该用户已注销",
            "該用戶已註銷",
        ],
    ),
    (35204, ["Incorrect password", "密码错误", "密碼錯誤"]),
    (
        36109,
        [
            "Conversations do not accept image files",
            "对话不允许发送图片文件",
            "對話不允許發送圖片文件",
        ],
    ),
    (
        36110,
        [
            "Conversations do not accept video files",
            "对话不允许发送视频文件",
            "對話不允許發送影片文件",
        ],
    ),
    (
        36111,
        [
            "Conversations do not accept audio files",
            "对话不允许发送音频文件",
            "對話不允許發送音訊文件",
        ],
    ),
    (
        36112,
        [
            "Conversations do not accept document files",
            "对话不允许发送文档文件",
            "對話不允許發送文件檔案",
        ],
    ),
    (
        36200,
        [
            "The file type is not supported",
            "不支持该文件类型",
            "不支援該檔案類型",
        ],
    ),
    (
        36600,
        [
            "Conversation function is not enabled and cannot be used",
            "对话功能未开启，无法使用",
            "對話功能未開啟，無法使用",
        ],
    ),
    (
        36601,
        [
            "Conversation exception or non-existent",
            "对话异常或不存在",
            "對話異常或不存在",
        ],
    ),
    (
        36602,
        [
            "The conversation does not belong to the current user",
            "对话不属于当前用户",
            "對話不屬於當前用戶",
        ],
    ),
    (
        36603,
        [
            "You can not send messages to yourself",
            "不能给自己发送消息",
            "不能給自己發送消息",
        ],
    ),
    (
        36605,
        [
            "The message could not be sent for the block words it contains",
            "消息含有屏蔽词，无法发送",
            "消息含有屏蔽詞，無法發送",
        ],
    ),
    (
        36606,
        [
            "The user they set that only the users he follows can send messages",
            "对方设置了仅其关注的用户可以发送消息",
            "對方設置了僅其關注的用戶可以發送消息",
        ],
    ),
    (
        36607,
        [
            "The user they set that only the users he follows and the verified users can send messages",
            "对方设置了仅其关注的用户和认证用户可以发送消息",
            "對方設置了僅其關注的用戶和認證用戶可以發送消息",
        ],
    ),
    (
        36608,
        [
            "The other party they set the conversation off function",
            "对方关闭了私信功能",
            "對方關閉了私信功能",
        ],
    ),
];

/// What an unknown code (a bug) is shown as.
const INTERNAL: [&str; 3] = ["Internal server error", "服务器内部错误", "伺服器內部錯誤"];

fn pick(texts: &[&'static str; 3], lang: Lang) -> &'static str {
    match lang {
        Lang::En => texts[0],
        Lang::ZhHans => texts[1],
        Lang::ZhHant => texts[2],
    }
}

/// The message for a code, in `lang`.
pub(crate) fn message(code: i32, lang: Lang) -> &'static str {
    let texts = MESSAGES
        .binary_search_by_key(&code, |(c, _)| *c)
        .ok()
        .and_then(|at| MESSAGES.get(at))
        .map_or(&INTERNAL, |(_, texts)| texts);
    pick(texts, lang)
}

/// Every code and its message in `lang`, for `global/code-messages`.
pub(crate) fn all_messages(lang: Lang) -> impl Iterator<Item = (i32, &'static str)> {
    MESSAGES
        .iter()
        .map(move |(code, texts)| (*code, pick(texts, lang)))
}
