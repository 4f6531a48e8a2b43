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

/// The codes colloq answers with, upstream's numbers. Their messages, in
/// `en`, `zh-Hans` and `zh-Hant`, are upstream's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub(crate) enum Code {
    /// 0.
    Success = 0,
    /// 21005.
    HeaderInvalid = 21005,
    /// 30000.
    ParamInvalid = 30000,
    /// 30002.
    ParamValueInvalid = 30002,
    /// 31102.
    PlatformKeyMismatch = 31102,
    /// 31103.
    PlatformSessionMismatch = 31103,
    /// 31301.
    AppKeyUnknown = 31301,
    /// 31302.
    SignatureWrong = 31302,
    /// 31303.
    SignatureExpired = 31303,
    /// 31304.
    KeyNotForApi = 31304,
    /// 31305.
    KeyReadOnly = 31305,
    /// 31402.
    TimezoneInvalid = 31402,
    /// 31501.
    AccountNotLoggedIn = 31501,
    /// 31502.
    AccountUnknown = 31502,
    /// 31504.
    TokenExpired = 31504,
    /// 31505.
    AccountTokenWrong = 31505,
    /// 31601.
    UserNotLoggedIn = 31601,
    /// 31602.
    UserUnknown = 31602,
    /// 31603.
    UserTokenWrong = 31603,
    /// 33203.
    VerifyCodeWrong = 33203,
    /// 34111.
    PasswordMissing = 34111,
    /// 34304.
    PasswordWrong = 34304,
    /// 34306.
    TooManyAttempts = 34306,
    /// 35201.
    UserNotOfAccount = 35201,
    /// 35202.
    UserBanned = 35202,
    /// 35203.
    UserDeactivated = 35203,
    /// 35204.
    UserPasswordWrong = 35204,
    /// 36109.
    ImagesRefused = 36109,
    /// 36110.
    VideosRefused = 36110,
    /// 36111.
    AudiosRefused = 36111,
    /// 36112.
    DocumentsRefused = 36112,
    /// 36200.
    FileTypeUnsupported = 36200,
    /// 36600.
    ConversationsDisabled = 36600,
    /// 36601.
    ConversationUnknown = 36601,
    /// 36602.
    ConversationNotYours = 36602,
    /// 36603.
    SelfConversation = 36603,
    /// 36605.
    BlockedWords = 36605,
    /// 36606.
    RequiresFollow = 36606,
    /// 36607.
    RequiresFollowOrVerified = 36607,
    /// 36608.
    RecipientRefusesAll = 36608,
    /// A rate limit of colloq's (HTTP 429, with `Retry-After`).
    TooManyRequests = 429,
    /// A fault of colloq's (HTTP 500).
    Internal = 500,
}

impl Code {
    /// Every code a client may be told about (not [`Code::Internal`]), in
    /// numeric order, for `global/code-messages`.
    pub(crate) const ALL: [Self; 41] = [
        Self::Success,
        Self::TooManyRequests,
        Self::HeaderInvalid,
        Self::ParamInvalid,
        Self::ParamValueInvalid,
        Self::PlatformKeyMismatch,
        Self::PlatformSessionMismatch,
        Self::AppKeyUnknown,
        Self::SignatureWrong,
        Self::SignatureExpired,
        Self::KeyNotForApi,
        Self::KeyReadOnly,
        Self::TimezoneInvalid,
        Self::AccountNotLoggedIn,
        Self::AccountUnknown,
        Self::TokenExpired,
        Self::AccountTokenWrong,
        Self::UserNotLoggedIn,
        Self::UserUnknown,
        Self::UserTokenWrong,
        Self::VerifyCodeWrong,
        Self::PasswordMissing,
        Self::PasswordWrong,
        Self::TooManyAttempts,
        Self::UserNotOfAccount,
        Self::UserBanned,
        Self::UserDeactivated,
        Self::UserPasswordWrong,
        Self::ImagesRefused,
        Self::VideosRefused,
        Self::AudiosRefused,
        Self::DocumentsRefused,
        Self::FileTypeUnsupported,
        Self::ConversationsDisabled,
        Self::ConversationUnknown,
        Self::ConversationNotYours,
        Self::SelfConversation,
        Self::BlockedWords,
        Self::RequiresFollow,
        Self::RequiresFollowOrVerified,
        Self::RecipientRefusesAll,
    ];

    /// The number on the wire.
    pub(crate) fn number(self) -> i32 {
        self as i32
    }

    fn texts(self) -> [&'static str; 3] {
        match self {
            Self::Success => ["Success", "成功", "成功"],
            Self::HeaderInvalid => [
                "Command word request parameter error",
                "命令字请求参数错误",
                "命令字請求參數錯誤",
            ],
            Self::ParamInvalid => ["Parameter error", "参数错误", "參數錯誤"],
            Self::ParamValueInvalid => [
                "Parameter values do not meet the requirements",
                "参数值不符合要求",
                "參數值不符合要求",
            ],
            Self::PlatformKeyMismatch => [
                "Platform ID and Key do not match",
                "平台编号与密钥不匹配",
                "平台編號與密鑰不匹配",
            ],
            Self::PlatformSessionMismatch => [
                "Platform ID does not match the account or user",
                "平台编号与账号或用户不匹配",
                "平台編號與帳號或用戶不匹配",
            ],
            Self::AppKeyUnknown => [
                "App ID does not exist or is disabled",
                "应用 ID 不存在或已禁用",
                "應用 ID 不存在或已禁用",
            ],
            Self::SignatureWrong => ["Signature error", "签名错误", "簽名錯誤"],
            Self::SignatureExpired => ["Signature expired", "签名已过期", "簽名已過期"],
            Self::KeyNotForApi => [
                "The key does not have the right to request for the interface",
                "该密钥无权请求此接口",
                "該密鑰無權請求此接口",
            ],
            Self::KeyReadOnly => [
                "Read-only key are not entitled to request for the interface",
                "只读密钥无权请求此接口",
                "唯讀密鑰無權請求此接口",
            ],
            Self::TimezoneInvalid => ["Timezone incorrect", "时区错误", "時區錯誤"],
            Self::AccountNotLoggedIn => [
                "Account not logged in, Unable to use",
                "账号未登录，无法使用",
                "帳號未登錄，無法使用",
            ],
            Self::AccountUnknown => [
                "Wrong account or record not exist",
                "账号错误或者记录不存在",
                "帳號錯誤或者記錄不存在",
            ],
            Self::TokenExpired => [
                "Login token is no longer valid, please login again",
                "登录令牌已失效，请重新登录",
                "登錄令牌已失效，請重新登錄",
            ],
            Self::AccountTokenWrong => [
                "Account login token are incorrect or do not exist",
                "账号登录令牌错误或不存在",
                "帳號登錄令牌錯誤或不存在",
            ],
            Self::UserNotLoggedIn => [
                "User not logged in, Unable to use",
                "用户未登录，无法使用",
                "用戶未登錄，無法使用",
            ],
            Self::UserUnknown => [
                "Wrong user or record not exist",
                "用户错误或者记录不存在",
                "用戶錯誤或者記錄不存在",
            ],
            Self::UserTokenWrong => [
                "User login token are incorrect or do not exist",
                "用户登录令牌错误或不存在",
                "用戶登錄令牌錯誤或不存在",
            ],
            Self::VerifyCodeWrong => [
                "Verify code incorrect or expired",
                "验证码不正确或已过期",
                "驗證碼不正確或已過期",
            ],
            Self::PasswordMissing => [
                "Account password or verification code cannot be empty",
                "账号密码或验证码不能为空",
                "帳號密碼或驗證碼不能為空",
            ],
            Self::PasswordWrong => ["Incorrect account password", "账号密码错误", "帳號密碼錯誤"],
            Self::TooManyAttempts => [
                "The error has exceeded the system limit. Please log in again 1 hour later",
                "错误已超系统限制，请 1 小时后再登录",
                "錯誤已超系統限制，請 1 小時後再登錄",
            ],
            Self::UserNotOfAccount => [
                "Current user not exist or not belong to the current account",
                "当前用户不存在或不属于当前账号",
                "當前用戶不存在或不屬於當前帳號",
            ],
            Self::UserBanned => [
                "Current user has been banned",
                "当前用户已被禁用",
                "當前用戶已被禁用",
            ],
            Self::UserDeactivated => [
                "The user has been logged out",
                "该用户已注销",
                "該用戶已註銷",
            ],
            Self::UserPasswordWrong => ["Incorrect password", "密码错误", "密碼錯誤"],
            Self::ImagesRefused => [
                "Conversations do not accept image files",
                "对话不允许发送图片文件",
                "對話不允許發送圖片文件",
            ],
            Self::VideosRefused => [
                "Conversations do not accept video files",
                "对话不允许发送视频文件",
                "對話不允許發送影片文件",
            ],
            Self::AudiosRefused => [
                "Conversations do not accept audio files",
                "对话不允许发送音频文件",
                "對話不允許發送音訊文件",
            ],
            Self::DocumentsRefused => [
                "Conversations do not accept document files",
                "对话不允许发送文档文件",
                "對話不允許發送文件檔案",
            ],
            Self::FileTypeUnsupported => [
                "The file type is not supported",
                "不支持该文件类型",
                "不支援該檔案類型",
            ],
            Self::ConversationsDisabled => [
                "Conversation function is not enabled and cannot be used",
                "对话功能未开启，无法使用",
                "對話功能未開啟，無法使用",
            ],
            Self::ConversationUnknown => [
                "Conversation exception or non-existent",
                "对话异常或不存在",
                "對話異常或不存在",
            ],
            Self::ConversationNotYours => [
                "The conversation does not belong to the current user",
                "对话不属于当前用户",
                "對話不屬於當前用戶",
            ],
            Self::SelfConversation => [
                "You can not send messages to yourself",
                "不能给自己发送消息",
                "不能給自己發送消息",
            ],
            Self::BlockedWords => [
                "The message could not be sent for the block words it contains",
                "消息含有屏蔽词，无法发送",
                "消息含有屏蔽詞，無法發送",
            ],
            Self::RequiresFollow => [
                "The user they set that only the users he follows can send messages",
                "对方设置了仅其关注的用户可以发送消息",
                "對方設置了僅其關注的用戶可以發送消息",
            ],
            Self::RequiresFollowOrVerified => [
                "The user they set that only the users he follows and the verified users can send messages",
                "对方设置了仅其关注的用户和认证用户可以发送消息",
                "對方設置了僅其關注的用戶和認證用戶可以發送消息",
            ],
            Self::RecipientRefusesAll => [
                "The other party they set the conversation off function",
                "对方关闭了私信功能",
                "對方關閉了私信功能",
            ],
            Self::TooManyRequests => [
                "Too many requests, please try again later",
                "请求过于频繁，请稍后再试",
                "請求過於頻繁，請稍後再試",
            ],
            Self::Internal => ["Internal server error", "服务器内部错误", "伺服器內部錯誤"],
        }
    }

    /// The message in `lang`.
    pub(crate) fn message(self, lang: Lang) -> &'static str {
        let [en, hans, hant] = self.texts();
        match lang {
            Lang::En => en,
            Lang::ZhHans => hans,
            Lang::ZhHant => hant,
        }
    }
}

/// Every code and its message in `lang`, for `global/code-messages`.
pub(crate) fn all_messages(lang: Lang) -> impl Iterator<Item = (i32, &'static str)> {
    Code::ALL
        .into_iter()
        .map(move |code| (code.number(), code.message(lang)))
}
