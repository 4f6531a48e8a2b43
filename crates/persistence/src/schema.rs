//! The one schema both engines share. Only portable SQL types appear here; the
//! per-engine DDL lives in `migrations/sqlite` and `migrations/postgres`.

diesel::table! {
    accounts (id) {
        id -> BigInt,
        aid -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        password_hash -> Text,
        is_staff -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        account_id -> BigInt,
        uid -> BigInt,
        username -> Text,
        nickname -> Text,
        avatar_url -> Text,
        is_primary -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    auth_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        account_id -> BigInt,
        user_id -> Nullable<BigInt>,
        scope -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    threads (id) {
        id -> BigInt,
        kind -> Integer,
        message_count -> BigInt,
        last_seq -> BigInt,
        last_message_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comm_orders (id) {
        id -> BigInt,
        user_id -> BigInt,
        archive_id -> BigInt,
        order_id -> BigInt,
        title -> Text,
        content -> Text,
        phone -> Text,
        images -> Text,
        sketch_images -> Text,
        finished_images -> Text,
        event_date -> Text,
        status -> Integer,
        admin_id -> Nullable<BigInt>,
        quote_price -> Text,
        quote_content -> Text,
        order_extra -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        thread_id -> BigInt,
        seq -> BigInt,
        sender_id -> Nullable<BigInt>,
        sender_role -> Integer,
        sender_name -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(comm_orders -> threads (id));
diesel::joinable!(messages -> threads (thread_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    auth_tokens,
    threads,
    comm_orders,
    messages,
);
