//! Typed identifiers. All ids are 64-bit integers; the newtypes keep
//! a user id from being passed where an order id belongs.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw integer, for storage and the wire.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An account: the credentials of one person (Fresns "aid" is its public name).
    AccountId
);
id_type!(
    /// A user profile (AnQiCMS user id; Fresns addresses it by `uid`).
    UserId
);
id_type!(
    /// A thread of messages: a communication order or a conversation.
    ThreadId
);
id_type!(
    /// A communication order. Its id is also the id of its thread.
    OrderId
);
id_type!(
    /// One message.
    MessageId
);
id_type!(
    /// One upload (its public name is the random `fid`).
    FileId
);

impl OrderId {
    /// The thread holding this order's messages.
    pub fn thread(self) -> ThreadId {
        ThreadId(self.0)
    }
}
