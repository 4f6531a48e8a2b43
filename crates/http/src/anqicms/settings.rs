//! The `[anqicms]` section of the settings: this dialect's own.

use serde::{Deserialize, Serialize};

/// AnQiCMS dialect settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnqicmsSettings {
    /// The form fields of a new order, served by `GET /api/communication/fields`
    /// (set them in the TOML file as `[[anqicms.order_fields]]`).
    pub order_fields: Vec<OrderField>,
}

impl Default for AnqicmsSettings {
    fn default() -> Self {
        let field =
            |name: &str, field_name: &str, kind: &str, required, content: &str| OrderField {
                name: name.to_owned(),
                field_name: field_name.to_owned(),
                kind: kind.to_owned(),
                required,
                content: content.to_owned(),
            };
        // The example form of AnQiCMS's own documentation of communication orders.
        Self {
            order_fields: vec![
                field("Delivery time", "delivery_time", "text", true, ""),
                field(
                    "Special requirements",
                    "special_requirement",
                    "textarea",
                    false,
                    "",
                ),
                field(
                    "Budget range",
                    "budget_range",
                    "select",
                    true,
                    "5000-10000\n10000-20000\n20000+",
                ),
            ],
        }
    }
}

/// One form field of a new order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderField {
    /// Display label.
    pub name: String,
    /// Key in `order_extra`.
    pub field_name: String,
    /// text, number, textarea, radio, checkbox, select, image or file.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether the form requires it.
    #[serde(default)]
    pub required: bool,
    /// Default value or options, one per line.
    #[serde(default)]
    pub content: String,
}
