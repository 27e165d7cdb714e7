//! Connecting a phone's Object Push server the way GOEP 2.0 phones expect: over an L2CAP
//! channel in Enhanced Retransmission Mode where the phone offers one (so the push can stream in
//! OBEX Single Response Mode), over RFCOMM otherwise or when the phone refuses the channel.
//!
//! The phone's Object Push record says where it listens ([`super::sdp`]). bluetoothd's
//! `ConnectProfile` reads the same record but then connects the PSM in L2CAP basic mode, which
//! GOEP 2.0 servers refuse, and never falls back to the RFCOMM channel; so the appliance connects
//! both itself. The L2CAP channel is a stream socket that the kernel opens in ERTM without
//! falling back to basic mode. Both sockets ask for security level LOW, so the kernel requests
//! no bonding: the phone pairs Just Works, temporarily, shows no dialog and stores no key
//! (`../shared/notes/phones-2026.md`). When the record cannot be read, the caller goes through
//! `ConnectProfile` as before.

use super::sdp::{self, OppPorts, SdpError};
use crate::model::outcome::{AttemptResult, Outcome};
use crate::obex::Transport;
use crate::radio::OppLink;
use bluer::{l2cap, rfcomm, Address, AddressType};
use std::io;
use std::time::Duration;

/// The SDP question's own limit (a phone in range answers within a second).
const SDP_LIMIT: Duration = Duration::from_secs(10);
/// What we take in one L2CAP packet: the phone's answers are a few bytes, but obexd and Android
/// ask for this much too, and a larger receive MTU costs nothing.
const RECV_MTU: u16 = 32767;
/// How often ERTM sends an I-frame the phone has not acknowledged before it gives the channel
/// up (the kernel's default is 3, with 2 s between tries). A phone busy with its user interface,
/// or the rig's emulated links under load, acknowledge late; the push's own packet timeout
/// still ends a transfer that makes no progress.
const MAX_TRANSMIT: u8 = 20;
/// `L2CAP_MODE_ERTM` of the kernel's `l2cap.h`.
const L2CAP_MODE_ERTM: u8 = 0x03;

/// What connecting came to.
pub enum Goep {
    /// Connected: push over this.
    Link(OppLink),
    /// The phone's record could not be read: try bluetoothd's `ConnectProfile`. The reason.
    ViaBluetoothd(String),
    /// No push possible: the phone did not answer, has no Object Push server, or refused both.
    Failed(AttemptResult),
}

/// Reads the phone's record and connects L2CAP in ERTM (when `l2cap` allows), or RFCOMM.
pub async fn connect(local: Address, peer: Address, l2cap: bool) -> Goep {
    let ports = match sdp::opp_ports(local, peer, SDP_LIMIT).await {
        Ok(ports) => ports,
        Err(SdpError::NoPage(e)) => return Goep::Failed(unreachable(&e)),
        Err(SdpError::Failed(e)) => return Goep::ViaBluetoothd(e),
    };
    let mut refused = None;
    if let Some(psm) = ports.psm.filter(|_| l2cap) {
        match l2cap_ertm(local, peer, psm).await {
            Ok(link) => {
                tracing::debug!(%peer, "Object Push over L2CAP PSM 0x{psm:04x} in ERTM");
                return Goep::Link(link);
            }
            Err(e) => refused = Some(format!("L2CAP PSM 0x{psm:04x} in ERTM refused ({e})")),
        }
    }
    if let Some(channel) = ports.channel {
        let why = match (&refused, ports.psm) {
            (Some(refused), _) => refused.as_str(),
            (None, Some(_)) => "asked for RFCOMM",
            (None, None) => "no GoepL2capPsm in its record",
        };
        tracing::debug!(%peer, "Object Push over RFCOMM channel {channel}: {why}");
    }
    match (rfcomm_channel(local, peer, &ports).await, refused) {
        (Some(Ok(link)), _) => Goep::Link(link),
        (Some(Err(e)), refused) => Goep::Failed(rfcomm_failed(&e, refused)),
        (None, Some(refused)) => {
            Goep::Failed(AttemptResult::new(Outcome::Failed, None, refused, 0))
        }
        (None, None) => Goep::Failed(AttemptResult::new(
            Outcome::NoOpp,
            None,
            "no Object Push record (SDP)",
            0,
        )),
    }
}

fn at_l2cap(addr: Address, psm: u16) -> l2cap::SocketAddr {
    l2cap::SocketAddr {
        addr,
        addr_type: AddressType::BrEdr,
        psm,
        cid: 0,
    }
}

async fn l2cap_ertm(local: Address, peer: Address, psm: u16) -> io::Result<OppLink> {
    let socket = l2cap::Socket::new_stream()?;
    socket.bind(at_l2cap(local, 0))?;
    socket.set_security(l2cap::Security {
        level: l2cap::SecurityLevel::Low,
        key_size: 0,
    })?;
    let mut opts = socket.l2cap_opts()?;
    opts.mode = L2CAP_MODE_ERTM;
    opts.imtu = RECV_MTU;
    opts.max_tx = MAX_TRANSMIT;
    socket.set_l2cap_opts(&opts)?;
    let stream = socket.connect(at_l2cap(peer, psm)).await?;
    let mtu = stream.as_ref().send_mtu()?;
    Ok(OppLink {
        stream: Box::new(stream),
        transport: Transport::L2capErtm { mtu },
    })
}

/// The RFCOMM connection, when the record names a channel.
async fn rfcomm_channel(
    local: Address,
    peer: Address,
    ports: &OppPorts,
) -> Option<io::Result<OppLink>> {
    let channel = ports.channel?;
    let connect = async {
        let socket = rfcomm::Socket::new()?;
        socket.bind(rfcomm::SocketAddr::new(local, 0))?;
        socket.set_security(rfcomm::Security {
            level: rfcomm::SecurityLevel::Low,
            key_size: 0,
        })?;
        let stream = socket
            .connect(rfcomm::SocketAddr::new(peer, channel))
            .await?;
        Ok(OppLink::rfcomm(Box::new(stream)))
    };
    Some(connect.await)
}

fn unreachable(e: &str) -> AttemptResult {
    AttemptResult::new(
        Outcome::Unreachable,
        None,
        format!("no answer to the page ({e})"),
        0,
    )
}

/// The RFCOMM connection failed (after the L2CAP one, if any, was refused).
fn rfcomm_failed(e: &io::Error, refused: Option<String>) -> AttemptResult {
    let outcome = match e.raw_os_error() {
        _ if sdp::page_unanswered(e) => Outcome::Unreachable,
        Some(libc::ECONNREFUSED) => Outcome::NoOpp,
        _ => Outcome::Failed,
    };
    let why = match refused {
        Some(refused) => format!("RFCOMM: {e}; {refused}"),
        None => format!("RFCOMM: {e}"),
    };
    AttemptResult::new(outcome, None, why, 0)
}
