//! Remote commands against independent implementations: commands signed by PyJWT (JWS EdDSA,
//! HS256) and pycose (COSE_Sign1 EdDSA, COSE_Mac0 HMAC 256/256) with keys made by the openssl
//! CLI are accepted, and tampered, unsigned, wrong-algorithm and expired ones refused; and the
//! whole path through a real mosquitto: `mosquitto_pub` publishes, the handler sees the
//! command once, an independent `mosquitto_sub` sees the reply, a replay is refused, also
//! after the outbox file is reopened.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgewise_link::backoff::Backoff;
use edgewise_link::command::{
    serve, CommandChannel, CommandCounters, CommandRequest, CommandValue, CommandVerifier,
    EnvelopeKind, Reason, VerifyKey, DEFAULT_REPLY_TOPIC, DEFAULT_TOPIC,
};
use edgewise_link::outbox::{Outbox, OutboxConfig};
use edgewise_link::transport::mqtt::MqttConfig;
use edgewise_sensors::actuator::State;
use edgewise_tests::peers::commands::{hmac_secret, keys, mosquitto_pub, sign, unix_now};
use edgewise_tests::peers::mosquitto::{BrokerOptions, LineEncoder, Mosquitto};
use edgewise_tests::peers::scratch_dir;
use tokio::sync::mpsc;

const DEVICE: &str = "pump-7";
const WAIT: Duration = Duration::from_secs(10);

fn command(id: &str, value: serde_json::Value, expires: u64) -> serde_json::Value {
    serde_json::json!({"id": id, "target": "fan", "value": value, "expires": expires, "device": DEVICE})
}

fn refusal(verifier: &CommandVerifier, message: &[u8]) -> Reason {
    match verifier.check(message, SystemTime::now()) {
        Ok(command) => panic!("accepted: {command:?}"),
        Err(refusal) => refusal.reason(),
    }
}

#[test]
fn commands_signed_by_pyjwt_and_pycose_verify_and_forgeries_do_not() {
    let dir = scratch_dir("command-signers");
    let keys = keys(dir.path());
    let ed25519 = CommandVerifier::new(
        VerifyKey::ed25519_from_file(&keys.ed25519_public).unwrap_or_else(|e| panic!("{e}")),
        DEVICE,
    );
    let hmac = CommandVerifier::new(
        VerifyKey::hmac_sha256(hmac_secret()).unwrap_or_else(|e| panic!("{e}")),
        DEVICE,
    );
    let expires = unix_now() + 300;
    let cases = [
        (
            "jws-eddsa",
            &keys.ed25519_private,
            &ed25519,
            EnvelopeKind::Jws,
        ),
        (
            "cose-sign1",
            &keys.ed25519_private,
            &ed25519,
            EnvelopeKind::CoseSign1,
        ),
        ("jws-hs256", &keys.hmac_hex, &hmac, EnvelopeKind::Jws),
        ("cose-mac0", &keys.hmac_hex, &hmac, EnvelopeKind::CoseMac0),
    ];
    for (mode, key, verifier, kind) in cases {
        let message = sign(
            mode,
            key,
            &command("c-1", serde_json::json!({"angle": 90.5}), expires),
        );
        let accepted = verifier
            .check(&message, SystemTime::now())
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(accepted.envelope, kind, "{mode}");
        assert_eq!(accepted.id, "c-1");
        assert_eq!(accepted.target, "fan");
        assert_eq!(accepted.value, CommandValue::Angle(90.5));
        assert_eq!(accepted.device.as_deref(), Some(DEVICE));
        assert_eq!(accepted.expires, UNIX_EPOCH + Duration::from_secs(expires));

        let numeric = sign(mode, key, &command("c-2", serde_json::json!(0.35), expires));
        let accepted = verifier
            .check(&numeric, SystemTime::now())
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert_eq!(accepted.value, CommandValue::Number(0.35));

        // One byte changed in the payload, then in the signature.
        let signature_len = match mode {
            "jws-eddsa" => 86,
            "jws-hs256" => 43,
            "cose-sign1" => 64,
            _ => 32,
        };
        for index in [message.len() - signature_len - 4, message.len() - 2] {
            let mut tampered = message.clone();
            tampered[index] = if tampered[index] == b'A' { b'B' } else { b'A' };
            assert_eq!(
                refusal(verifier, &tampered),
                Reason::BadSignature,
                "{mode}, byte {index} changed"
            );
        }

        let expired = sign(
            mode,
            key,
            &command("c-3", serde_json::json!("on"), unix_now() - 10),
        );
        assert_eq!(refusal(verifier, &expired), Reason::Expired, "{mode}");
    }

    // Signed with another Ed25519 key.
    let forged = sign(
        "jws-eddsa",
        &keys.other_private,
        &command("c-4", "on".into(), expires),
    );
    assert_eq!(refusal(&ed25519, &forged), Reason::BadSignature);
    let forged = sign(
        "cose-sign1",
        &keys.other_private,
        &command("c-4", "on".into(), expires),
    );
    assert_eq!(refusal(&ed25519, &forged), Reason::BadSignature);

    // Algorithms the device does not take, and a key kind that does not match.
    let hs512 = sign(
        "jws-hs512",
        &keys.hmac_hex,
        &command("c-5", "on".into(), expires),
    );
    assert_eq!(refusal(&hmac, &hs512), Reason::BadSignature);
    let mac64 = sign(
        "cose-mac0-64",
        &keys.hmac_hex,
        &command("c-5", "on".into(), expires),
    );
    assert_eq!(refusal(&hmac, &mac64), Reason::BadSignature);
    let hs256 = sign(
        "jws-hs256",
        &keys.hmac_hex,
        &command("c-5", "on".into(), expires),
    );
    assert_eq!(refusal(&ed25519, &hs256), Reason::BadSignature);
    let eddsa = sign(
        "jws-eddsa",
        &keys.ed25519_private,
        &command("c-5", "on".into(), expires),
    );
    assert_eq!(refusal(&hmac, &eddsa), Reason::BadSignature);

    // Unsigned: bare JSON and bare CBOR.
    let bare_json = command("c-6", "on".into(), expires)
        .to_string()
        .into_bytes();
    assert_eq!(refusal(&ed25519, &bare_json), Reason::Unsigned);
    let bare_cbor = sign(
        "cbor",
        &keys.hmac_hex,
        &command("c-6", "on".into(), expires),
    );
    assert_eq!(refusal(&hmac, &bare_cbor), Reason::Unsigned);
}

/// A command service on `outbox` whose handler applies every command as `State::On`, and the
/// receiver of the commands the handler saw.
struct Running {
    counters: CommandCounters,
    seen: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

async fn start_service(broker: &Mosquitto, verifier: &CommandVerifier, outbox: Outbox) -> Running {
    let mut config = MqttConfig::new("127.0.0.1", DEVICE, Arc::new(LineEncoder::default()));
    config.port = broker.port;
    config.reconnect = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    let channel = CommandChannel::start(&config, DEFAULT_TOPIC, DEFAULT_REPLY_TOPIC)
        .unwrap_or_else(|e| panic!("{e}"));
    let monitor = channel.monitor();
    let (handler, mut requests) = mpsc::channel::<CommandRequest>(4);
    let (seen_tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(request) = requests.recv().await {
            seen_tx.send(request.command.id.clone()).ok();
            request.done.send(Ok(State::On)).ok();
        }
    });
    let counters = CommandCounters::new();
    let task = tokio::spawn(serve(
        channel,
        verifier.clone(),
        outbox,
        handler,
        counters.clone(),
    ));
    let deadline = tokio::time::Instant::now() + WAIT;
    while !monitor.is_connected() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the command channel did not subscribe: {:?}; broker log:\n{}",
            monitor.last_error(),
            broker.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Running {
        counters,
        seen,
        task,
    }
}

fn reply(subscriber: &edgewise_tests::peers::mosquitto::Subscriber) -> serde_json::Value {
    let (topic, payload) = subscriber
        .next(WAIT)
        .unwrap_or_else(|| panic!("no reply within {WAIT:?}"));
    assert_eq!(topic, format!("edgewise/{DEVICE}/commands/reply"));
    serde_json::from_str(&payload).unwrap_or_else(|e| panic!("reply {payload}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_through_mosquitto_runs_once_and_its_replay_is_refused_across_restarts() {
    let dir = scratch_dir("command-mosquitto");
    let keys = keys(dir.path());
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    let subscriber = broker.subscribe(&format!("edgewise/{DEVICE}/commands/reply"), None);
    let topic = format!("edgewise/{DEVICE}/commands");
    let verifier = CommandVerifier::new(
        VerifyKey::ed25519_from_file(&keys.ed25519_public).unwrap_or_else(|e| panic!("{e}")),
        DEVICE,
    );
    let outbox_path = dir.path().join("outbox.redb");
    let outbox =
        Outbox::open(&outbox_path, OutboxConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut running = start_service(&broker, &verifier, outbox).await;

    let expires = unix_now() + 300;
    let jws = sign(
        "jws-eddsa",
        &keys.ed25519_private,
        &command("c-42", "on".into(), expires),
    );
    mosquitto_pub(&broker, &topic, &jws, dir.path());
    let done = reply(&subscriber);
    assert_eq!(done["id"], "c-42", "{done}");
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["target"], "fan");
    assert_eq!(done["state"], "on");
    assert!(
        done["at"].as_str().is_some_and(|at| at.ends_with('Z')),
        "{done}"
    );
    assert_eq!(running.seen.recv().await.as_deref(), Some("c-42"));

    // COSE is binary: through the same topic.
    let cose = sign(
        "cose-sign1",
        &keys.ed25519_private,
        &command("c-43", "off".into(), expires),
    );
    mosquitto_pub(&broker, &topic, &cose, dir.path());
    assert_eq!(reply(&subscriber)["status"], "done");
    assert_eq!(running.seen.recv().await.as_deref(), Some("c-43"));

    // The same message again.
    mosquitto_pub(&broker, &topic, &jws, dir.path());
    let replayed = reply(&subscriber);
    assert_eq!(replayed["id"], "c-42");
    assert_eq!(replayed["status"], "refused");
    assert!(
        replayed["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("replayed")),
        "{replayed}"
    );

    // Unsigned and tampered ones are refused and counted; the id of a readable one is echoed.
    let bare = command("c-44", "on".into(), expires)
        .to_string()
        .into_bytes();
    mosquitto_pub(&broker, &topic, &bare, dir.path());
    let unsigned = reply(&subscriber);
    assert_eq!(unsigned["id"], "c-44");
    assert!(unsigned["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("unsigned")));
    mosquitto_pub(&broker, &topic, b"\x00\x01 not a command", dir.path());
    let junk = reply(&subscriber);
    assert!(junk["id"].is_null(), "{junk}");
    assert!(junk["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("malformed")));

    let stats = running.counters.snapshot();
    assert_eq!(stats.received, 5);
    assert_eq!(stats.executed, 2);
    assert_eq!(stats.refused(Reason::Replayed), 1);
    assert_eq!(stats.refused(Reason::Unsigned), 1);
    assert_eq!(stats.refused(Reason::Malformed), 1);
    assert!(
        running.seen.try_recv().is_err(),
        "the handler saw a refused command"
    );

    // A restarted agent: the service and its outbox handle gone, the file opened again.
    running.task.abort();
    running.task.await.ok();
    let outbox =
        Outbox::open(&outbox_path, OutboxConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut running = start_service(&broker, &verifier, outbox).await;
    mosquitto_pub(&broker, &topic, &jws, dir.path());
    let after_restart = reply(&subscriber);
    assert_eq!(after_restart["status"], "refused", "{after_restart}");
    assert!(after_restart["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("replayed")));
    assert!(running.seen.try_recv().is_err());
    running.task.abort();
}
