//! The simulated backend: a hall of virtual phones behind the same [`Radio`](super::Radio)
//! boundary as real controllers.
//!
//! It is not a mock. Every phone runs the real OBEX server over an in-memory pipe, and the
//! engine runs the real OBEX client against it; only the radio (inquiry, paging, link speed) is
//! modelled, with the timings real controllers show. Everything is driven by tokio's clock, so
//! under a paused clock a simulated expo hour takes seconds, and everything is drawn from a
//! seed, so a run can be checked against its ground truth.

mod link;
mod phone;
mod population;
mod radio;
mod rng;
mod world;

pub use link::{open as open_link, Air};
pub use population::{generate, Behaviour, GoepL2cap, Phone};
pub use radio::SimRadio;
pub use rng::Rng;
pub use world::{LinkModel, World};
