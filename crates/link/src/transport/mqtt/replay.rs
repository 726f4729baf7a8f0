//! Puts rumqttc's replay queue back into the order the messages were first sent.
//!
//! MQTT requires a client that resends unacknowledged PUBLISH packets after a reconnect to
//! resend them in their original order (MQTT 3.1.1 and 5, section 4.6, MQTT-4.6.0-1), and a
//! per-sensor order on the receiving side depends on it. rumqttc 0.25 does not always:
//!
//! - its MQTT 5 state collects the unacknowledged publishes by packet id, from 1 up. Packet ids
//!   wrap around at `max_inflight`, so with ids 98, 99, 100, 1, 2 in flight the resend order is
//!   1, 2, 98, 99, 100: newer readings overtake older ones (seen against mosquitto, about one
//!   run in five of `tests/mqtt_no_loss.rs`);
//! - in both versions, a connection that fails while the previous replay is still being sent
//!   appends the replayed-and-unacknowledged messages *behind* the ones not replayed yet.
//!
//! [`ReplayOrder`] watches the same events as the ack tracker, stamps each packet id with the
//! order of its first write, and after a connection failure sorts the replay queue by those
//! stamps. Messages never written (packet id 0) stay behind them, in their order: they are
//! newer than everything ever written, as rumqttc writes its queue first in, first out.

use std::collections::{HashMap, VecDeque};

/// The first-write order of the messages awaiting their acknowledgement.
#[derive(Debug, Default)]
pub(crate) struct ReplayOrder {
    /// Packet id → when its message was first written (a counter).
    first_written: HashMap<u16, u64>,
    next_stamp: u64,
}

impl ReplayOrder {
    /// rumqttc wrote a publish with `pkid`: a new message, or a resend of one still awaiting
    /// its acknowledgement (which keeps its first stamp). QoS 0 (pkid 0) is not replayed.
    pub(crate) fn written(&mut self, pkid: u16) {
        if pkid == 0 {
            return;
        }
        let stamp = self.next_stamp;
        if let std::collections::hash_map::Entry::Vacant(slot) = self.first_written.entry(pkid) {
            slot.insert(stamp);
            self.next_stamp += 1;
        }
    }

    /// The broker acknowledged `pkid`; the id may now carry a new message.
    pub(crate) fn acked(&mut self, pkid: u16) {
        self.first_written.remove(&pkid);
    }

    /// The broker started a new session: rumqttc dropped everything awaiting acknowledgement.
    pub(crate) fn session_lost(&mut self) {
        self.first_written.clear();
    }

    /// Sorts rumqttc's replay queue: publishes written before (with a packet id) in the order
    /// of their first write, then everything else in its current order. `pkid_of` gives a
    /// request's packet id if it is a publish.
    pub(crate) fn sort<R>(&self, pending: &mut VecDeque<R>, pkid_of: impl Fn(&R) -> Option<u16>) {
        // A stable sort: requests with equal keys keep their order.
        pending
            .make_contiguous()
            .sort_by_key(|request| match pkid_of(request) {
                Some(pkid) if pkid != 0 => (
                    0,
                    self.first_written.get(&pkid).copied().unwrap_or(u64::MAX),
                ),
                _ => (1, 0),
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request in the replay queue: (packet id, what it carries); `None` for a request that
    /// is not a publish.
    type Request = (Option<u16>, &'static str);

    fn sorted(order: &ReplayOrder, pending: &[Request]) -> Vec<&'static str> {
        let mut pending: VecDeque<Request> = pending.iter().copied().collect();
        order.sort(&mut pending, |request| request.0);
        pending.into_iter().map(|(_, what)| what).collect()
    }

    #[test]
    fn publishes_whose_packet_ids_wrapped_around_are_replayed_oldest_first() {
        let mut order = ReplayOrder::default();
        // Ids cycle 1..=100: the first 97 are acknowledged, then 98, 99, 100, 1, 2 are written
        // and the connection fails before their acknowledgements.
        for pkid in 1..=97 {
            order.written(pkid);
            order.acked(pkid);
        }
        for pkid in [98, 99, 100, 1, 2] {
            order.written(pkid);
        }
        // rumqttc's MQTT 5 state hands them back by packet id, then the unwritten queue.
        let pending = [
            (Some(1), "d"),
            (Some(2), "e"),
            (Some(98), "a"),
            (Some(99), "b"),
            (Some(100), "c"),
            (Some(0), "f"),
            (Some(0), "g"),
        ];
        assert_eq!(
            sorted(&order, &pending),
            ["a", "b", "c", "d", "e", "f", "g"]
        );
    }

    #[test]
    fn a_replay_cut_short_by_another_failure_keeps_the_first_order() {
        let mut order = ReplayOrder::default();
        for pkid in 1..=4 {
            order.written(pkid);
        }
        // Reconnected: 1 and 2 are resent (they keep their stamps) and acknowledged is only 1;
        // the connection fails again before 3 and 4 are resent. rumqttc appends what it
        // collects (2) behind what it still had queued (3, 4).
        order.written(1);
        order.written(2);
        order.acked(1);
        let pending = [(Some(3), "c"), (Some(4), "d"), (Some(2), "b")];
        assert_eq!(sorted(&order, &pending), ["b", "c", "d"]);
    }

    #[test]
    fn a_reused_packet_id_is_a_new_message() {
        let mut order = ReplayOrder::default();
        order.written(1);
        order.written(2);
        order.acked(1);
        order.written(1); // id 1 now carries the third message
        let pending = [(Some(1), "third"), (Some(2), "second")];
        assert_eq!(sorted(&order, &pending), ["second", "third"]);
    }

    #[test]
    fn requests_that_are_not_publishes_keep_their_order_behind_the_publishes() {
        let mut order = ReplayOrder::default();
        order.written(7);
        order.written(3);
        let pending = [
            (None, "other"),
            (Some(3), "second"),
            (Some(0), "new"),
            (Some(7), "first"),
        ];
        assert_eq!(
            sorted(&order, &pending),
            ["first", "second", "other", "new"]
        );
    }

    #[test]
    fn a_new_session_forgets_the_stamps() {
        let mut order = ReplayOrder::default();
        order.written(5);
        order.session_lost();
        order.written(6);
        order.written(5);
        let pending = [(Some(5), "later"), (Some(6), "earlier")];
        assert_eq!(sorted(&order, &pending), ["earlier", "later"]);
    }
}
