//! The echo server of the talk, Twisted style: a protocol that writes back what it receives.

use std::net::SocketAddr;

use crate::protocol::{Factory, Protocol, Transport};

// ANCHOR: echo
/// Sends every byte back, in order.
#[derive(Debug, Default)]
pub struct Echo;

impl Protocol for Echo {
    fn data_received(&mut self, data: &[u8], transport: &mut Transport) {
        transport.write(data);
    }
}

/// One [`Echo`] per connection.
#[derive(Debug, Default)]
pub struct EchoFactory;

impl Factory for EchoFactory {
    type Protocol = Echo;

    fn build_protocol(&mut self, _peer: SocketAddr) -> Echo {
        Echo
    }
}
// ANCHOR_END: echo
