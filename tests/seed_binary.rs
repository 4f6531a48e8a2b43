//! `colloq seed` writes what the running service would have written: every
//! counter the list and page reads trust agrees with the rows, and the seeded
//! people log in and page the hot thread.

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

mod support;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{Value, json};
use support::{Env, json_out};

/// Small enough to seed in a second, big enough for several batches per hot
/// thread and a last page that is not full.
const HOT: i64 = 2_345;

fn count(env: &Env, query: &str) -> i64 {
    let mut conn = env.db.manager().unwrap().open().unwrap();
    diesel::select(diesel::dsl::sql::<BigInt>(query))
        .get_result(&mut conn)
        .unwrap()
}

/// Threads whose counters are not what their rows say: the message count and
/// the last sequence number equal the number of rows, whose sequence numbers
/// (unique per thread by the index) therefore run 1..=count with no gap, and
/// the latest time is the last row's.
const BAD_THREADS: &str = "(SELECT count(*) FROM threads t WHERE \
     t.message_count <> (SELECT count(*) FROM messages m WHERE m.thread_id = t.id) \
     OR t.last_seq <> t.message_count \
     OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND (m.seq < 1 OR m.seq > t.last_seq)) \
     OR (t.message_count > 0 AND (t.last_message_at IS NULL \
         OR t.last_message_at <> (SELECT max(m.created_at) FROM messages m WHERE m.thread_id = t.id))))";

/// Conversations whose per-side counters disagree with their messages, or
/// whose messages are not between the pair (every seeded conversation has
/// messages, so each has a latest time).
const BAD_CONVERSATIONS: &str = "(SELECT count(*) FROM conversations c JOIN threads t ON t.id = c.id WHERE \
     c.a_message_count <> t.message_count OR c.b_message_count <> t.message_count \
     OR c.a_unread_count <> (SELECT count(*) FROM messages m WHERE m.thread_id = c.id \
         AND m.recipient_id = c.a_user_id AND m.recipient_read_at IS NULL) \
     OR c.b_unread_count <> (SELECT count(*) FROM messages m WHERE m.thread_id = c.id \
         AND m.recipient_id = c.b_user_id AND m.recipient_read_at IS NULL) \
     OR c.latest_message_at IS NULL OR c.latest_message_at <> t.last_message_at \
     OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = c.id AND NOT ( \
         (m.sender_id = c.a_user_id AND m.recipient_id = c.b_user_id) \
         OR (m.sender_id = c.b_user_id AND m.recipient_id = c.a_user_id))))";

#[test]
fn seeded_counters_agree_with_the_rows_and_seeded_people_page_the_hot_order() {
    let env = Env::new();
    let summary = json_out(env.colloq().args([
        "seed",
        "--users",
        "7",
        "--orders",
        "9",
        "--conversations",
        "11",
        "--messages",
        "400",
        "--hot-messages",
        &HOT.to_string(),
        "--password",
        "secret-pw",
        "--tag",
        "t",
    ]));
    // 400 messages over 20 threads: 20 each.
    assert_eq!(summary["messages"], json!(400 + 2 * HOT));
    assert_eq!(
        count(&env, "(SELECT count(*) FROM messages)"),
        400 + 2 * HOT
    );
    assert_eq!(count(&env, "(SELECT count(*) FROM comm_orders)"), 9 + 1);
    assert_eq!(count(&env, "(SELECT count(*) FROM conversations)"), 11 + 1);
    assert_eq!(count(&env, "(SELECT count(*) FROM threads)"), 9 + 11 + 2);
    assert_eq!(count(&env, BAD_THREADS), 0);
    assert_eq!(count(&env, BAD_CONVERSATIONS), 0);
    // Order messages have no recipient; every conversation message has one.
    assert_eq!(
        count(
            &env,
            "(SELECT count(*) FROM messages m JOIN comm_orders o ON o.id = m.thread_id \
             WHERE m.recipient_id IS NOT NULL)"
        ),
        0
    );
    if env.db.pg_schema().is_some() {
        // The load ends settled: vacuumed and analysed, not left to autovacuum.
        assert_eq!(
            count(
                &env,
                "(SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() \
                 AND relname = 'messages' AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL)"
            ),
            1
        );
    }

    let server = env.serve(env.colloq());
    let hot_user = summary["hot_users"][0].as_str().unwrap();
    let login: Value = ureq::post(&format!("{}/api/login", server.base))
        .send_json(json!({"user_name": hot_user, "password": "secret-pw"}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(login["code"], 0, "{login}");
    let token = login["data"]["token"].as_str().unwrap();
    let order = summary["hot_order"].as_i64().unwrap();
    let last = (HOT + 9) / 10;
    let page: Value = ureq::get(&format!(
        "{}/api/communication/messages?comm_order_id={order}&current={last}&page_size=10",
        server.base
    ))
    .header("token", token)
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    assert_eq!(page["code"], 0, "{page}");
    assert_eq!(page["total"], HOT, "{page}");
    let items = page["data"].as_array().unwrap();
    assert_eq!(items.len(), usize::try_from(HOT % 10).unwrap());
    assert!(
        items.last().unwrap()["content"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Message {HOT}:")),
        "{page}"
    );
}
