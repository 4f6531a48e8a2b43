//! The hot reads use their intended indexes, on the engine under test. A change
//! that drops an index or reshapes a query so it cannot use one fails here.
//!
//! SQLite's planner is asked directly. PostgreSQL's would pick a sequential scan
//! on tables this small whatever the indexes, so there the test disables
//! sequential scans and checks that the intended index can serve the query.

#![expect(
    clippy::unwrap_used,
    clippy::tests_outside_test_module,
    reason = "an integration-test crate is all tests; failing loudly is the point"
)]

use chrono::Utc;
use colloq_domain::ids::UserId;
use colloq_domain::message::{MessageBody, MessageType, NewMessage, SenderRole};
use colloq_domain::order::{NewOrder, OrderExtra};
use colloq_domain::user::User;
use colloq_persistence::testing::TestDatabase;
use colloq_persistence::{
    DbConn, Engine, StoreError, accounts, conversations, messages, migrate, orders, plans,
    write_transaction,
};
use diesel::connection::SimpleConnection;

fn account(conn: &mut DbConn, name: &str, uid: i64) -> Result<User, StoreError> {
    accounts::create(
        conn,
        accounts::NewAccount {
            aid: name,
            uid,
            username: name,
            nickname: name,
            email: None,
            phone: None,
            password_hash: "x",
            is_staff: false,
        },
        Utc::now(),
    )
}

fn setup() -> (TestDatabase, DbConn, i64, i64, i64) {
    let db = TestDatabase::new().unwrap();
    let mut conn = db.manager().unwrap().open().unwrap();
    migrate(&mut conn).unwrap();
    let alice = account(&mut conn, "user0", 100).unwrap().id;
    let bob = account(&mut conn, "user1", 101).unwrap().id;
    let conversation = write_transaction(&mut conn, |conn| {
        conversations::create(conn, alice, bob, Utc::now())
    })
    .unwrap();
    write_transaction(&mut conn, |conn| {
        for t in 0..20 {
            let order =
                NewOrder::parse(1, "t", "c", "13800000000", vec![], OrderExtra::new()).unwrap();
            let order = orders::create(conn, alice, &order, Utc::now())?;
            for i in 0..100 {
                let body = MessageBody::parse(format!("m{t}-{i}")).unwrap();
                let msg = NewMessage {
                    sender: Some(alice),
                    role: SenderRole::User,
                    sender_name: "a".to_owned(),
                    kind: MessageType::Text,
                    body,
                    file: None,
                };
                messages::append(conn, order.id.thread(), &msg, Utc::now())?;
            }
        }
        for i in 0..200 {
            let body = MessageBody::parse(format!("d{i}")).unwrap();
            let msg = NewMessage {
                sender: Some(alice),
                role: SenderRole::User,
                sender_name: "a".to_owned(),
                kind: MessageType::Text,
                body,
                file: None,
            };
            messages::append_direct(conn, conversation.id, &msg, bob, Utc::now())?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let analyze = match db.engine() {
        Engine::Sqlite => "ANALYZE;",
        Engine::Postgres => "ANALYZE; SET enable_seqscan = off; SET enable_bitmapscan = off;",
    };
    conn.batch_execute(analyze).unwrap();
    (db, conn, conversation.id.get(), alice.get(), bob.get())
}

fn uses(plan: &str, index: &str) {
    assert!(
        plan.contains(index),
        "expected {index} in the plan:\n{plan}"
    );
    assert!(
        !plan.contains("SCAN messages\n") && !plan.ends_with("SCAN messages"),
        "a full scan:\n{plan}"
    );
}

/// Every table of a keyed read is searched, none scanned, on either engine.
fn scans_none(plan: &str, tables: &[&str]) {
    for table in tables {
        assert!(
            !plan.contains(&format!("SCAN {table}"))
                && !plan.contains(&format!("Seq Scan on {table}")),
            "{table} is scanned:\n{plan}"
        );
    }
}

#[test]
fn message_pages_seek_the_thread_sequence_index() {
    let (_db, mut conn, conversation, alice, _bob) = setup();
    uses(
        &plans::thread_page(&mut conn, 5, 40, 10).unwrap(),
        "messages_thread_seq_idx",
    );
    uses(
        &plans::visible_page(&mut conn, conversation, alice, 136, 150).unwrap(),
        "messages_thread_seq_idx",
    );
    let plan = plans::thread_page(&mut conn, 5, 40, 10).unwrap();
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "pages must not sort:\n{plan}"
    );
}

#[test]
fn deletions_orders_and_pairs_use_their_indexes() {
    let (_db, mut conn, conversation, alice, bob) = setup();
    uses(
        &plans::deleted_by_sender(&mut conn, conversation, alice).unwrap(),
        "messages_sender_deleted_idx",
    );
    // The unread index covers conversation messages only: marking one read
    // still searches (here by thread, which the planners prefer at this size).
    scans_none(
        &plans::unread_in(&mut conn, conversation, bob).unwrap(),
        &["messages"],
    );
    uses(
        &plans::customer_orders(&mut conn, alice, 10, 0).unwrap(),
        "comm_orders_user_idx",
    );
    uses(
        &plans::conversation_pair(&mut conn, alice, bob).unwrap(),
        "conversations_pair_idx",
    );
}

#[test]
fn a_feed_resumes_by_seeking_its_key() {
    let (_db, mut conn, _conversation, alice, _bob) = setup();
    let plan = plans::feed_after(&mut conn, alice, 3, 100).unwrap();
    scans_none(&plan, &["events", "event_audience", "event_log"]);
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "a feed read must not sort:\n{plan}"
    );
}

#[test]
fn a_message_pages_first_read_looks_every_row_up_by_key() {
    let (_db, mut conn, conversation, alice, _bob) = setup();
    // SQLite rightly scans a table of one conversation: give it a few.
    write_transaction(&mut conn, |conn| {
        for i in 0..30 {
            let other = account(conn, &format!("other{i}"), 200 + i)?;
            conversations::create(conn, other.id, UserId(alice), Utc::now())?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    conn.batch_execute("ANALYZE;").unwrap();
    let plan = plans::viewer_read(&mut conn, conversation, alice).unwrap();
    scans_none(
        &plan,
        &[
            "conversations",
            "threads",
            "users",
            "accounts",
            "follows",
            "blocks",
        ],
    );
}

#[test]
fn a_fresns_callers_read_looks_every_row_up_by_key() {
    let (_db, mut conn, _conversation, _alice, _bob) = setup();
    // SQLite rightly scans tables of two rows: give them a few more.
    for i in 0..30 {
        account(&mut conn, &format!("other{i}"), 200 + i).unwrap();
    }
    conn.batch_execute("ANALYZE;").unwrap();
    let plan = plans::key_and_user(&mut conn, "app", 100).unwrap();
    // The token table is read twice, under these aliases.
    scans_none(
        &plan,
        &[
            "app_keys",
            "users",
            "accounts",
            "account_token",
            "user_token",
        ],
    );
}
