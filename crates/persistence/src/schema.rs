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
        password_hash -> Nullable<Text>,
        conversation_limit -> Integer,
        is_enabled -> Bool,
        is_verified -> Bool,
        deleted_at -> Nullable<Timestamp>,
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
        platform_id -> Nullable<Integer>,
        app_id -> Nullable<Text>,
        parent_hash -> Nullable<Text>,
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
        recipient_id -> Nullable<BigInt>,
        sender_deleted_at -> Nullable<Timestamp>,
        recipient_deleted_at -> Nullable<Timestamp>,
        recipient_read_at -> Nullable<Timestamp>,
        file_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    blobs (sha256) {
        sha256 -> Text,
        md5 -> Text,
        size -> BigInt,
        mime -> Text,
        extension -> Text,
        kind -> Integer,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    files (id) {
        id -> BigInt,
        fid -> Text,
        sha256 -> Text,
        name -> Text,
        uploader_id -> BigInt,
        scope_user_id -> Nullable<BigInt>,
        thread_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    app_keys (id) {
        id -> BigInt,
        app_id -> Text,
        app_secret -> Text,
        platform_id -> Integer,
        name -> Text,
        key_type -> Integer,
        is_enabled -> Bool,
        is_read_only -> Bool,
        token_ttl_secs -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    follows (follower_id, followee_id) {
        follower_id -> BigInt,
        followee_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blocks (blocker_id, blocked_id) {
        blocker_id -> BigInt,
        blocked_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        account_id -> BigInt,
        created_at -> Timestamp,
        address -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> BigInt,
        idem_key -> Text,
        fingerprint -> Text,
        message_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        a_user_id -> BigInt,
        b_user_id -> BigInt,
        low_user_id -> BigInt,
        high_user_id -> BigInt,
        a_is_display -> Bool,
        b_is_display -> Bool,
        a_is_pin -> Bool,
        b_is_pin -> Bool,
        a_message_count -> BigInt,
        b_message_count -> BigInt,
        a_unread_count -> BigInt,
        b_unread_count -> BigInt,
        latest_message_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stream_tickets (ticket_hash) {
        ticket_hash -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(auth_tokens -> users (user_id));
diesel::joinable!(comm_orders -> threads (id));
diesel::joinable!(messages -> threads (thread_id));
diesel::joinable!(conversations -> threads (id));
diesel::joinable!(messages -> files (file_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    auth_tokens,
    threads,
    comm_orders,
    messages,
    app_keys,
    follows,
    blocks,
    login_failures,
    idempotency_keys,
    stream_tickets,
    conversations,
    blobs,
    files,
    events,
    event_log,
    event_audience,
);

diesel::table! {
    events (feed, position) {
        feed -> BigInt,
        position -> BigInt,
        kind -> Integer,
        thread_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        message_id -> Nullable<BigInt>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

// SQLite's feed (migration 000013): one row per event, and per feed an
// index of the events it hears of. PostgreSQL keeps `events`.
diesel::table! {
    event_log (id) {
        id -> BigInt,
        kind -> Integer,
        thread_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        message_id -> Nullable<BigInt>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_audience (feed, event_id) {
        feed -> BigInt,
        event_id -> BigInt,
    }
}

diesel::joinable!(event_audience -> event_log (event_id));
