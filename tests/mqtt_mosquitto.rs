//! The MQTT transport against a real mosquitto on 127.0.0.1, in MQTT 3.1.1 and 5: what a
//! subscriber (`mosquitto_sub`) receives, TLS and mutual TLS with a throwaway CA, passwords,
//! the last will, the errors a misconfigured deployment gets, and a broker restart.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use edgewise_link::backoff::Backoff;
use edgewise_link::tls::TlsFiles;
use edgewise_link::transport::mqtt::{
    Credentials, LastWill, MqttConfig, MqttTransport, ProtocolVersion, Qos,
};
use edgewise_link::transport::{Delivery, ErrorKind, Transport};
use edgewise_link::Reading;
use edgewise_tests::peers::mosquitto::{BrokerOptions, LineEncoder, Mosquitto, TestPki};
use edgewise_tests::peers::scratch_dir;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V311, ProtocolVersion::V5];
const WAIT: Duration = Duration::from_secs(5);

fn config(broker: &Mosquitto, protocol: ProtocolVersion, client_id: &str) -> MqttConfig {
    let mut config = MqttConfig::new("127.0.0.1", client_id, Arc::new(LineEncoder::default()));
    config.port = broker.port;
    config.protocol = protocol;
    config.keep_alive = Duration::from_secs(5);
    config.reconnect = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    config.ack_timeout = Duration::from_secs(10);
    config
}

fn client_id(test: &str, protocol: ProtocolVersion) -> String {
    format!("{test}-{protocol:?}-{}", std::process::id())
}

fn reading(sensor: &'static str, seq: u64, temperature: f64) -> Reading {
    let mut reading = Reading::new(sensor, SystemTime::now())
        .with_number("temperature", "Cel", temperature)
        .with_number("humidity", "%RH", 40.5);
    reading.seq = seq;
    reading
}

fn start(config: MqttConfig) -> MqttTransport {
    MqttTransport::start(config).unwrap_or_else(|e| panic!("transport did not start: {e}"))
}

fn assert_complete(delivery: &Delivery, what: &str) {
    assert!(
        delivery.is_complete() && delivery.error.is_none(),
        "{what}: {} acknowledged, error {:?}",
        delivery.acked_count(),
        delivery.error
    );
}

/// The error of a publish that must fail, checked for its kind and words.
async fn expect_failure(transport: &mut MqttTransport, kind: ErrorKind, words: &str) -> String {
    let delivery = transport.publish(&[reading("s", 0, 1.0)]).await;
    assert_eq!(delivery.acked_count(), 0);
    let error = delivery
        .error
        .unwrap_or_else(|| panic!("{}: the publish did not fail", transport.describe()));
    assert_eq!(error.kind, kind, "{error}");
    assert!(
        error.message.contains(words),
        "expected `{words}` in: {error}"
    );
    println!("{kind:?}: {error}");
    error.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_reach_a_subscriber_on_their_topics_with_their_payloads() {
    let dir = scratch_dir("mqtt-plain");
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    for protocol in VERSIONS {
        let device = format!("dev-{protocol:?}");
        let subscriber = broker.subscribe(&format!("edgewise/{device}/#"), None);
        let mut cfg = config(&broker, protocol, &client_id("plain", protocol));
        cfg.device = device.clone();
        let mut mqtt = start(cfg);
        let batch = [reading("sht31", 7, 21.5), reading("bme280", 8, 19.25)];
        assert_complete(&mqtt.publish(&batch).await, "plain publish");
        let mut received = vec![subscriber.next(WAIT), subscriber.next(WAIT)];
        received.sort();
        assert_eq!(
            received,
            vec![
                Some((
                    format!("edgewise/{device}/bme280"),
                    "bme280 8 temperature=19.25,humidity=40.5".to_string()
                )),
                Some((
                    format!("edgewise/{device}/sht31"),
                    "sht31 7 temperature=21.5,humidity=40.5".to_string()
                )),
            ],
            "{protocol:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_template_sends_one_message_per_field_at_qos_0_and_1() {
    let dir = scratch_dir("mqtt-channels");
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    for (protocol, qos) in [
        (ProtocolVersion::V311, Qos::AtLeastOnce),
        (ProtocolVersion::V5, Qos::AtMostOnce),
    ] {
        let site = format!("site-{protocol:?}");
        let subscriber = broker.subscribe(&format!("{site}/#"), None);
        let mut cfg = config(&broker, protocol, &client_id("channels", protocol));
        cfg.topic = format!("{site}/{{device}}/{{sensor}}/{{channel}}");
        cfg.device = "pump".into();
        cfg.qos = qos;
        let mut mqtt = start(cfg);
        assert_complete(
            &mqtt.publish(&[reading("sht31", 1, 22.0)]).await,
            "per-channel publish",
        );
        let mut received = vec![subscriber.next(WAIT), subscriber.next(WAIT)];
        received.sort();
        assert_eq!(
            received,
            vec![
                Some((
                    format!("{site}/pump/sht31/humidity"),
                    "sht31 1 humidity=40.5".into()
                )),
                Some((
                    format!("{site}/pump/sht31/temperature"),
                    "sht31 1 temperature=22".into()
                )),
            ],
            "{protocol:?} {qos:?}"
        );
    }
}

fn tls_files(pki: &TestPki, ca: &Path, client: bool) -> TlsFiles {
    TlsFiles {
        ca_file: Some(ca.to_path_buf()),
        client_cert: client.then(|| pki.client.0.clone()),
        client_key: client.then(|| pki.client.1.clone()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls_deliver_to_the_broker() {
    let dir = scratch_dir("mqtt-tls");
    let pki = TestPki::generate(dir.path());
    for require_certificate in [false, true] {
        let broker_dir = dir.path().join(format!("broker-{require_certificate}"));
        std::fs::create_dir_all(&broker_dir).unwrap_or_else(|e| panic!("{e}"));
        let broker = Mosquitto::start(
            &broker_dir,
            &BrokerOptions {
                tls: pki.broker_tls(&pki.server),
                require_certificate,
                ..BrokerOptions::default()
            },
        );
        for protocol in VERSIONS {
            let subscriber = broker.subscribe("edgewise/#", None);
            for host in ["localhost", "127.0.0.1"] {
                let mut cfg = config(&broker, protocol, &client_id("tls", protocol));
                cfg.host = host.into();
                cfg.tls = Some(tls_files(&pki, &pki.ca, require_certificate));
                let mut mqtt = start(cfg);
                assert!(mqtt.describe().starts_with("mqtts://"));
                assert_complete(
                    &mqtt.publish(&[reading("tls", 3, 20.0)]).await,
                    &format!("TLS (client certificate: {require_certificate}) to {host}"),
                );
                let (topic, payload) = subscriber
                    .next(WAIT)
                    .unwrap_or_else(|| panic!("nothing arrived over TLS ({protocol:?}, {host})"));
                assert!(topic.ends_with("/tls"), "{topic}");
                assert!(payload.starts_with("tls 3 temperature=20"), "{payload}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_checked_and_a_wrong_one_is_an_auth_error() {
    let dir = scratch_dir("mqtt-auth");
    let broker = Mosquitto::start(
        dir.path(),
        &BrokerOptions {
            users: vec![("edge".into(), "s3cret".into())],
            ..BrokerOptions::default()
        },
    );
    for protocol in VERSIONS {
        let mut cfg = config(&broker, protocol, &client_id("auth", protocol));
        cfg.credentials = Some(Credentials {
            username: "edge".into(),
            password: "s3cret".into(),
        });
        let mut good = start(cfg.clone());
        assert_complete(
            &good.publish(&[reading("a", 0, 1.0)]).await,
            "right password",
        );

        cfg.client_id = client_id("auth-wrong", protocol);
        cfg.credentials = Some(Credentials {
            username: "edge".into(),
            password: "n0t-it".into(),
        });
        assert!(
            !format!("{cfg:?}").contains("n0t-it"),
            "the password leaks into Debug"
        );
        let mut bad = start(cfg.clone());
        expect_failure(&mut bad, ErrorKind::Auth, "refused").await;

        cfg.credentials = None;
        cfg.client_id = client_id("auth-none", protocol);
        let mut anonymous = start(cfg);
        expect_failure(&mut anonymous, ErrorKind::Auth, "refused").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_will_is_published_when_the_client_vanishes() {
    let dir = scratch_dir("mqtt-will");
    let broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
    for protocol in VERSIONS {
        let status_topic = format!("edgewise/will-{protocol:?}/status");
        let subscriber = broker.subscribe(&status_topic, None);
        let mut cfg = config(&broker, protocol, &client_id("will", protocol));
        cfg.last_will = Some(LastWill {
            topic: status_topic.clone(),
            payload: b"offline".to_vec(),
            qos: Qos::AtLeastOnce,
            retain: false,
        });
        let mut mqtt = start(cfg);
        assert_complete(
            &mqtt.publish(&[reading("w", 0, 1.0)]).await,
            "before vanishing",
        );
        assert_eq!(
            subscriber.next(Duration::from_millis(200)),
            None,
            "a will before vanishing"
        );
        drop(mqtt);
        assert_eq!(
            subscriber.next(WAIT),
            Some((status_topic.clone(), "offline".to_string())),
            "{protocol:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_misconfigurations_fail_with_an_explanation() {
    let dir = scratch_dir("mqtt-tls-errors");
    let pki = TestPki::generate(dir.path());
    let good_dir = dir.path().join("good");
    let expired_dir = dir.path().join("expired");
    let plain_dir = dir.path().join("plain");
    for d in [&good_dir, &expired_dir, &plain_dir] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    let tls = |server| BrokerOptions {
        tls: pki.broker_tls(server),
        ..BrokerOptions::default()
    };
    let good = Mosquitto::start(&good_dir, &tls(&pki.server));
    let expired = Mosquitto::start(&expired_dir, &tls(&pki.expired_server));
    let plain = Mosquitto::start(&plain_dir, &BrokerOptions::default());
    for protocol in VERSIONS {
        let id = |what: &str| client_id(&format!("tls-error-{what}"), protocol);

        let mut cfg = config(&good, protocol, &id("ca"));
        cfg.tls = Some(tls_files(&pki, &pki.other_ca, false));
        let mut wrong_ca = start(cfg);
        expect_failure(
            &mut wrong_ca,
            ErrorKind::Tls,
            "not signed by the configured CA",
        )
        .await;

        let mut cfg = config(&expired, protocol, &id("expired"));
        cfg.tls = Some(tls_files(&pki, &pki.ca, false));
        let mut stale = start(cfg);
        expect_failure(&mut stale, ErrorKind::Tls, "expired").await;

        // TLS configured, but the port speaks plain MQTT.
        let mut cfg = config(&plain, protocol, &id("plain-server"));
        cfg.tls = Some(tls_files(&pki, &pki.ca, false));
        let mut to_plain = start(cfg);
        expect_failure(&mut to_plain, ErrorKind::Tls, "TLS").await;

        // Plain MQTT to a port that expects TLS.
        let mut cfg = config(&good, protocol, &id("plain-client"));
        cfg.tls = None;
        let mut plain_to_tls = start(cfg);
        expect_failure(&mut plain_to_tls, ErrorKind::Tls, "expects TLS").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_broker_restart_on_the_same_port_the_next_publish_is_acknowledged() {
    for protocol in VERSIONS {
        let dir = scratch_dir("mqtt-restart");
        let mut broker = Mosquitto::start(dir.path(), &BrokerOptions::default());
        let mut cfg = config(&broker, protocol, &client_id("restart", protocol));
        cfg.ack_timeout = Duration::from_secs(3);
        let mut mqtt = start(cfg);
        assert_complete(
            &mqtt.publish(&[reading("r", 0, 1.0)]).await,
            "before the restart",
        );

        broker.stop();
        let down = mqtt.publish(&[reading("r", 1, 2.0)]).await;
        assert!(!down.is_complete(), "acknowledged with the broker stopped");
        let error = down
            .error
            .unwrap_or_else(|| panic!("no error with the broker stopped"));
        assert!(error.is_transient(), "{error}");

        broker.restart();
        let subscriber = broker.subscribe("edgewise/#", None);
        // The transport reconnects on its own (back-off capped at 1 s here); the publish
        // waits up to its ack timeout for that.
        let mut after = mqtt.publish(&[reading("r", 2, 3.0)]).await;
        if after
            .error
            .as_ref()
            .is_some_and(|e| e.kind == ErrorKind::Connect)
        {
            // The reconnect attempt fell just outside this publish's wait: the next one
            // must go through.
            after = mqtt.publish(&[reading("r", 2, 3.0)]).await;
        }
        assert_complete(&after, &format!("after the restart ({protocol:?})"));
        // The reading queued while the broker was down may arrive first: it was still in
        // the client's queue when the connection came back (at least once: the outbox sends
        // it again anyway).
        loop {
            let (_, payload) = subscriber
                .next(WAIT)
                .unwrap_or_else(|| panic!("reading 2 did not arrive after the restart"));
            if payload.starts_with("r 2 ") {
                break;
            }
            assert!(payload.starts_with("r 1 "), "unexpected message: {payload}");
        }
    }
}
