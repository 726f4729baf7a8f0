//! Which message a broker's acknowledgement belongs to.
//!
//! rumqttc assigns packet ids itself and reports them only as events: `Outgoing::Publish(pkid)`
//! when a publish was written (in the order the requests were queued; pkid 0 at QoS 0),
//! `Incoming::PubAck(pkid)` when the broker confirmed it. The tracker pairs them up. It is a
//! plain state machine, fed by the connection task, so its corner cases are unit-tested here
//! without a broker:
//!
//! - after a reconnect rumqttc resends unacknowledged publishes under their old packet ids:
//!   an `Outgoing::Publish` for an id still awaiting its PUBACK is such a resend, not a new
//!   message;
//! - when the broker answers CONNACK with `session_present = false` (it lost our session, or
//!   we asked for a clean one), rumqttc drops everything it had queued: those messages fail,
//!   so the caller learns at once that they were not delivered;
//! - a broker that acknowledges out of order can make rumqttc reuse a busy packet id; rumqttc
//!   then parks the message (`Outgoing::AwaitAck`) and sends it when the id frees up.

use std::collections::{HashMap, VecDeque};

/// Why a tracked message will not be acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lost {
    /// The connection failed before the message was written (QoS 0).
    NotWritten,
    /// The broker started a new session, dropping what was in flight.
    SessionGone,
    /// The broker answered the publish with an MQTT 5 reason code other than success.
    Refused(String),
}

/// A resolved message: its token and whether the broker took it.
pub(crate) type Resolution<T> = (T, Result<(), Lost>);

/// Pairs rumqttc's packet ids with the caller's tokens.
#[derive(Debug)]
pub(crate) struct AckTracker<T> {
    /// Queued with rumqttc, not yet written, in queue order.
    unwritten: VecDeque<T>,
    /// Written at QoS 1, waiting for the broker's PUBACK.
    awaiting_ack: HashMap<u16, T>,
    /// Parked by rumqttc until its packet id is free again.
    parked: Option<(u16, T)>,
    /// At the last disconnect, how many of `unwritten` (from the front) rumqttc moved into
    /// its own replay queue: a new session drops them.
    replay_queued: usize,
}

impl<T> Default for AckTracker<T> {
    fn default() -> Self {
        Self {
            unwritten: VecDeque::new(),
            awaiting_ack: HashMap::new(),
            parked: None,
            replay_queued: 0,
        }
    }
}

impl<T> AckTracker<T> {
    /// A message was queued with rumqttc (call in queue order).
    pub(crate) fn queued(&mut self, token: T) {
        self.unwritten.push_back(token);
    }

    /// rumqttc wrote a publish with `pkid` (0 at QoS 0, which is resolved right away).
    pub(crate) fn written(&mut self, pkid: u16, resolved: &mut Vec<Resolution<T>>) {
        if pkid != 0 && self.awaiting_ack.contains_key(&pkid) {
            return; // A resend after a reconnect.
        }
        let token = match self.parked.take() {
            Some((parked, token)) if parked == pkid => Some(token),
            other => {
                self.parked = other;
                self.unwritten.pop_front()
            }
        };
        let Some(token) = token else { return };
        if pkid == 0 {
            resolved.push((token, Ok(())));
        } else {
            self.awaiting_ack.insert(pkid, token);
        }
    }

    /// A publish event that was still buffered when the connection failed: its bytes may not
    /// have left, so a QoS 0 message counts as lost (QoS 1 ones are resent).
    pub(crate) fn written_before_failure(&mut self, pkid: u16, resolved: &mut Vec<Resolution<T>>) {
        if pkid == 0 {
            if let Some(token) = self.unwritten.pop_front() {
                resolved.push((token, Err(Lost::NotWritten)));
            }
        } else {
            self.written(pkid, resolved);
        }
    }

    /// rumqttc parked the next queued message because `pkid` is still in flight.
    pub(crate) fn parked(&mut self, pkid: u16) {
        if let Some(token) = self.unwritten.pop_front() {
            self.parked = Some((pkid, token));
        }
    }

    /// The broker acknowledged `pkid` (`refused` carries an MQTT 5 failure reason).
    pub(crate) fn acked(
        &mut self,
        pkid: u16,
        refused: Option<String>,
        resolved: &mut Vec<Resolution<T>>,
    ) {
        if let Some(token) = self.awaiting_ack.remove(&pkid) {
            resolved.push((
                token,
                refused.map_or(Ok(()), |reason| Err(Lost::Refused(reason))),
            ));
        }
    }

    /// The connection failed; rumqttc moved its unwritten messages into its replay queue,
    /// `replay_queued` of them new ones (packet id 0, not yet written).
    pub(crate) fn disconnected(&mut self, replay_queued: usize) {
        self.replay_queued = replay_queued.min(self.unwritten.len());
    }

    /// The broker accepted a connection. Without its session, what rumqttc had queued for
    /// replay, and everything awaiting an acknowledgement, is gone.
    pub(crate) fn connected(&mut self, session_present: bool, resolved: &mut Vec<Resolution<T>>) {
        let replay_queued = std::mem::take(&mut self.replay_queued);
        if session_present {
            return;
        }
        let lost = self.unwritten.drain(..replay_queued);
        let in_flight = self.awaiting_ack.drain().map(|(_, token)| token);
        let parked = self.parked.take().map(|(_, token)| token);
        resolved.extend(
            lost.chain(in_flight)
                .chain(parked)
                .map(|token| (token, Err(Lost::SessionGone))),
        );
    }

    /// Messages not resolved yet.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.unwritten.len() + self.awaiting_ack.len() + usize::from(self.parked.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        tracker: &mut AckTracker<u32>,
        step: impl FnOnce(&mut AckTracker<u32>, &mut Vec<Resolution<u32>>),
    ) -> Vec<Resolution<u32>> {
        let mut resolved = Vec::new();
        step(tracker, &mut resolved);
        resolved
    }

    #[test]
    fn qos1_messages_are_resolved_by_their_pubacks_in_any_order() {
        let mut t = AckTracker::default();
        (1..=3).for_each(|token| t.queued(token));
        for pkid in 1..=3 {
            assert!(run(&mut t, |t, r| t.written(pkid, r)).is_empty());
        }
        assert_eq!(run(&mut t, |t, r| t.acked(2, None, r)), vec![(2, Ok(()))]);
        assert_eq!(run(&mut t, |t, r| t.acked(1, None, r)), vec![(1, Ok(()))]);
        assert_eq!(
            run(&mut t, |t, r| t.acked(3, Some("QuotaExceeded".into()), r)),
            vec![(3, Err(Lost::Refused("QuotaExceeded".into())))]
        );
        assert_eq!(t.outstanding(), 0);
    }

    #[test]
    fn qos0_messages_are_resolved_once_written() {
        let mut t = AckTracker::default();
        t.queued(7);
        assert_eq!(run(&mut t, |t, r| t.written(0, r)), vec![(7, Ok(()))]);
    }

    #[test]
    fn resends_after_a_reconnect_with_the_session_are_not_new_messages() {
        let mut t = AckTracker::default();
        (1..=3).for_each(|token| t.queued(token));
        run(&mut t, |t, r| t.written(1, r));
        // Connection lost: pkid 1 awaits its ack, tokens 2 and 3 sat in rumqttc's queue.
        t.disconnected(2);
        assert!(run(&mut t, |t, r| t.connected(true, r)).is_empty());
        run(&mut t, |t, r| t.written(1, r)); // the resend
        run(&mut t, |t, r| t.written(2, r));
        run(&mut t, |t, r| t.written(3, r));
        let acks = run(&mut t, |t, r| {
            (1..=3).for_each(|pkid| t.acked(pkid, None, r))
        });
        assert_eq!(acks, vec![(1, Ok(())), (2, Ok(())), (3, Ok(()))]);
    }

    #[test]
    fn a_new_session_fails_what_rumqttc_dropped_but_not_what_was_queued_after() {
        let mut t = AckTracker::default();
        (1..=3).for_each(|token| t.queued(token));
        run(&mut t, |t, r| t.written(1, r));
        t.disconnected(1); // token 2 moved to the replay queue
        t.queued(4); // queued while reconnecting: still in rumqttc's channel
        let lost = run(&mut t, |t, r| t.connected(false, r));
        assert_eq!(
            lost,
            vec![(2, Err(Lost::SessionGone)), (1, Err(Lost::SessionGone))]
        );
        // Token 3 reached rumqttc's channel after the connection task drained it, so it
        // survives like token 4; both are written next, in order.
        run(&mut t, |t, r| t.written(1, r));
        run(&mut t, |t, r| t.written(2, r));
        let acks = run(&mut t, |t, r| {
            (1..=2).for_each(|pkid| t.acked(pkid, None, r))
        });
        assert_eq!(acks, vec![(3, Ok(())), (4, Ok(()))]);
    }

    #[test]
    fn a_parked_message_takes_its_packet_id_when_it_frees_up() {
        let mut t = AckTracker::default();
        (1..=3).for_each(|token| t.queued(token));
        run(&mut t, |t, r| t.written(1, r));
        run(&mut t, |t, r| t.written(2, r));
        t.parked(1); // token 3 wants pkid 1, still in flight
        assert_eq!(run(&mut t, |t, r| t.acked(1, None, r)), vec![(1, Ok(()))]);
        run(&mut t, |t, r| t.written(1, r));
        let acks = run(&mut t, |t, r| {
            t.acked(2, None, r);
            t.acked(1, None, r);
        });
        assert_eq!(acks, vec![(2, Ok(())), (3, Ok(()))]);
    }

    #[test]
    fn a_qos0_publish_buffered_at_a_failure_counts_as_not_written() {
        let mut t = AckTracker::default();
        t.queued(9);
        assert_eq!(
            run(&mut t, |t, r| t.written_before_failure(0, r)),
            vec![(9, Err(Lost::NotWritten))]
        );
    }
}
