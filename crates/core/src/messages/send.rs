use chrono::{DateTime, Utc};
use colloq_domain::DomainError;
use colloq_domain::ids::OrderId;
use colloq_domain::message::{
    IdempotencyKey, Message, MessageBody, MessageType, NewMessage, SenderRole,
};
use colloq_domain::order::OrderAction;
use colloq_domain::user::Viewer;
use colloq_persistence::orders::Hold;
use colloq_persistence::{DbConn, Writer, orders};

use crate::CoreError;
use crate::events::Outbox;
use crate::idempotency::{Keyed, stored_by};

/// A message as the sender wrote it; who sent it comes from the token only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    /// The kind.
    pub kind: MessageType,
    /// The content.
    pub body: MessageBody,
    /// The public id of an upload the content refers to (a media message whose
    /// URL is one of colloq's file URLs).
    pub attachment: Option<String>,
    /// The client's `Idempotency-Key`, when it sent one.
    pub key: Option<IdempotencyKey>,
}

/// Sends a message on an order as the viewer. A staff reply to a pending order
/// opens it (status `communicating`, with a system note). The message is
/// committed (by `writer`) before this returns: an acknowledged message is
/// never lost.
///
/// An attachment must be the sender's own upload, not attached to another
/// thread, of a kind the message type carries.
///
/// # Errors
/// [`CoreError::NotVisible`]; [`CoreError::Forbidden`] for a customer's `quote`;
/// an illegal transition for a cancelled order; [`crate::Refusal::File`].
pub fn send_order_message(
    conn: &mut DbConn,
    writer: &Writer,
    viewer: &Viewer,
    id: OrderId,
    input: SendMessage,
    now: DateTime<Utc>,
) -> Result<Message, CoreError> {
    if input.kind == MessageType::Quote && !viewer.as_staff {
        return Err(CoreError::Forbidden("only staff can send quotes"));
    }
    let keyed = input.key.clone().map(|key| {
        let order = id.get().to_string();
        let parts = [
            order.as_str(),
            input.kind.as_str(),
            input.body.as_ref(),
            input.attachment.as_deref().unwrap_or_default(),
        ];
        Keyed::new(viewer.user.id, key, &parts)
    });
    let (viewer, job_key) = (viewer.clone(), keyed.clone());
    let sent = writer.write(conn, move |conn| {
        if let Some(stored) = stored_by(job_key.as_ref(), conn, now)? {
            return Ok(stored);
        }
        // Staff replies change the order (who answers it, and a pending one
        // opens); a customer's message only needs it to stay open.
        let hold = if viewer.as_staff {
            Hold::Change
        } else {
            Hold::Rely
        };
        let order = crate::orders::load_held(conn, &viewer, id, hold)?;
        if !order.status.accepts_messages() {
            return Err(DomainError::IllegalTransition {
                action: "send messages to",
                current: order.status,
            }
            .into());
        }
        let file = match &input.attachment {
            Some(fid) => Some(
                crate::files::attach(
                    conn,
                    fid,
                    viewer.user.id,
                    id.thread(),
                    None,
                    Some(input.kind),
                )?
                .id,
            ),
            None => None,
        };
        let message = NewMessage {
            sender: Some(viewer.user.id),
            role: if viewer.as_staff {
                SenderRole::Staff
            } else {
                SenderRole::User
            },
            sender_name: viewer.user.username.clone(),
            kind: input.kind,
            body: input.body,
            file,
        };
        let mut outbox = Outbox::default();
        let stored = crate::orders::append(conn, &mut outbox, &order, &message, now)?;
        if viewer.as_staff {
            if let Some(next) = order.status.apply(OrderAction::StaffReply)? {
                crate::orders::transition(conn, &mut outbox, &order, next, viewer.user.id, now)?;
            }
            orders::set_admin(conn, id, viewer.user.id)?;
        }
        if let Some(key) = &job_key {
            key.remember(conn, stored.id, now)?;
        }
        outbox.record(conn, now)?;
        Ok(stored)
    });
    match (sent, keyed) {
        // A concurrent request with the same key stored first: its message
        // is the answer, and this one's send was rolled back.
        (Err(CoreError::Conflict), Some(key)) => key.stored(conn, now)?.ok_or(CoreError::Conflict),
        (sent, _) => sent,
    }
}
