//! OBEX Object Push: the one protocol a phone speaks when we offer it a file.
//!
//! The appliance is an OBEX *client* that pushes one object; the simulated phones (and the tests)
//! need a matching *server*. Both share the wire format in [`wire`], so the bytes one side writes
//! are exactly the bytes the other side parses. [`tcp`] carries OBEX over TCP (port 650) for
//! interop tests against other OBEX stacks; on the Pi the same code runs over RFCOMM, or over
//! L2CAP ERTM with Single Response Mode ([`srm`]) where the phone offers GOEP 2.0. What a push
//! cost on the wire (packets, bytes, round trips) comes back from [`push_counted`].

pub mod client;
pub mod server;
pub mod srm;
pub mod stats;
pub mod tcp;
pub mod wire;

pub use client::{push, push_counted, Object, PushOptions};
pub use server::{
    serve, AcceptAll, Always, Decision, Offer, Prompt, Received, ServerError, ServerOptions,
};
pub use srm::Transport;
pub use stats::PushStats;
