//! `colloq seed`: demo data through the same use cases the API runs, in batched
//! transactions, with a progress bar on stderr.

use colloq_core::messages::{SendMessage, send_order_message};
use colloq_core::orders::create_order;
use colloq_core::{Clock, accounts};
use colloq_domain::message::{MessageBody, MessageType};
use colloq_domain::order::{NewOrder, OrderExtra};
use colloq_domain::user::{Email, NewUser, PlainPassword, User, Username, Viewer};
use colloq_persistence::{DbConn, DbPool, StoreError, write_transaction};
use indicatif::{ProgressBar, ProgressStyle};

use crate::anyhow_free::Failure;
use crate::cli::SeedArgs;

/// Orders written per transaction.
const BATCH: u32 = 50;

pub(crate) fn run(pool: &DbPool, args: &SeedArgs) -> Result<(), Failure> {
    let clock = Clock::default();
    let mut conn = pool.get().map_err(StoreError::from)?;
    let suffix = clock.now().timestamp();
    let staff = person(
        &mut conn,
        &format!("staff{suffix}"),
        &args.password,
        true,
        &clock,
    )?;
    let customers = (0..args.customers.max(1))
        .map(|i| {
            person(
                &mut conn,
                &format!("customer{suffix}x{i}"),
                &args.password,
                false,
                &clock,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;

    let total = u64::from(args.orders) * u64::from(args.messages_per_order + 1);
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {per_sec}, eta {eta}")
            .unwrap_or_else(|_template| ProgressStyle::default_bar()),
    );
    let mut done = 0;
    while done < args.orders {
        let batch = BATCH.min(args.orders - done);
        write_transaction(&mut conn, |conn| {
            for i in done..done + batch {
                let customer = &customers[usize::try_from(i).unwrap_or(0) % customers.len()];
                seed_order(conn, customer, &staff, i, args.messages_per_order, &clock)?;
                bar.inc(u64::from(args.messages_per_order + 1));
            }
            Ok::<_, Failure>(())
        })?;
        done += batch;
    }
    bar.finish();
    crate::print_json(&serde_json::json!({
        "staff": staff.username,
        "customers": customers.len(),
        "orders": args.orders,
        "messages": u64::from(args.orders) * u64::from(args.messages_per_order),
        "password": args.password,
    }))
}

fn person(
    conn: &mut DbConn,
    name: &str,
    password: &str,
    staff: bool,
    clock: &Clock,
) -> Result<User, Failure> {
    let user = NewUser {
        username: Username::parse(name)?,
        password: PlainPassword::parse(password.to_owned())?,
        email: Some(Email::parse(&format!("{name}@example.com"))?),
        phone: None,
        nickname: None,
        is_staff: staff,
    };
    Ok(accounts::register(conn, user, clock.now())?)
}

fn seed_order(
    conn: &mut DbConn,
    customer: &User,
    staff: &User,
    n: u32,
    messages: u32,
    clock: &Clock,
) -> Result<(), Failure> {
    let customer = Viewer::customer(customer.clone());
    let staff = Viewer::staff(staff.clone());
    let order = NewOrder::parse(
        i64::from(n % 97 + 1),
        &format!("Custom theme #{n}"),
        "A responsive theme for a foreign-trade site, with a product catalogue.",
        "13800000000",
        vec![],
        OrderExtra::from([("budget_range".to_owned(), "5000-10000".to_owned())]),
    )?;
    let order = create_order(conn, &customer, &order, clock.now())?;
    for m in 0..messages {
        let (who, text) = if m % 2 == 0 {
            (
                &customer,
                format!("Question {m} about order {n}: can the header be sticky?"),
            )
        } else {
            (&staff, format!("Answer {m}: yes, that is included."))
        };
        let input = SendMessage {
            kind: MessageType::Text,
            body: MessageBody::parse(text)?,
        };
        send_order_message(conn, who, order.id, input, clock.now())?;
    }
    Ok(())
}
