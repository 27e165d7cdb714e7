//! A simulated phone answering one connection: the real OBEX server, with a prompt that plays
//! the phone's behaviour (a user who accepts after a while, declines, never looks, or a phone
//! that only takes images or loses the link half-way).

use super::population::{Behaviour, Phone};
use super::world::World;
use crate::obex::{serve, Decision, Offer, Prompt, ServerOptions, Transport};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Android's prompt gives up after this long and answers Forbidden.
const ANDROID_PROMPT: Duration = Duration::from_secs(50);

struct UserPrompt {
    behaviour: Behaviour,
    /// Which connection this is (1 = first).
    attempt: u32,
}

impl Prompt for UserPrompt {
    fn decide<'a>(
        &'a mut self,
        offer: &'a Offer,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + 'a>> {
        Box::pin(async move {
            let (wait, decision) = match self.behaviour {
                Behaviour::Accept { decide } | Behaviour::SlowLink { decide } => {
                    (decide, Decision::Accept)
                }
                Behaviour::Decline { decide } => (decide, Decision::Reject(0xC3)),
                Behaviour::PromptExpires => (ANDROID_PROMPT, Decision::Reject(0xC3)),
                Behaviour::DropMidTransfer { decide } if self.attempt == 1 => {
                    (decide, Decision::DropAfter(offer.length.unwrap_or(0) / 2))
                }
                Behaviour::DropMidTransfer { decide } => (decide, Decision::Accept),
                _ => (Duration::ZERO, Decision::Silent),
            };
            tokio::time::sleep(wait).await;
            decision
        })
    }
}

/// Server options of this phone: Android's checks, SRM over L2CAP, and for picky phones images
/// only.
fn options(behaviour: Behaviour, transport: Transport) -> ServerOptions {
    let mut opts = ServerOptions {
        srm: transport.allows_srm(),
        ..ServerOptions::default()
    };
    if behaviour == Behaviour::RefuseType {
        opts.accepted_types = Some(vec!["image/*".to_string()]);
    }
    opts
}

/// Serves one connection to `phone`, recording what it received.
pub(super) async fn answer<S>(
    world: Arc<World>,
    phone: Phone,
    attempt: u32,
    stream: S,
    transport: Transport,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut prompt = UserPrompt {
        behaviour: phone.behaviour,
        attempt,
    };
    let opts = options(phone.behaviour, transport);
    match serve(stream, &opts, &mut prompt).await {
        Ok(objects) => world.note_received(phone.index, objects),
        Err(e) => tracing::debug!(phone = phone.index, "simulated phone: {e}"),
    }
}
