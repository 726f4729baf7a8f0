"""Publishes N messages of SIZE bytes to 127.0.0.1:PORT with paho-mqtt's asynchronous publish
at QoS Q with at most INFLIGHT unacknowledged, waits until paho reports every one published
(PUBACK at QoS 1, written at QoS 0), and prints messages per second.

With BATCH, the messages go in batches of that many, each published in full before the next
starts, as a client fed by an outbox works; without it, in one stream.

Usage: paho_publish.py PORT N SIZE QOS INFLIGHT [BATCH]
"""

import sys
import threading
import time

import paho.mqtt.client as mqtt


def main():
    port, count, size, qos, inflight = (int(arg) for arg in sys.argv[1:6])
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else count
    client_id = f"paho-bench-q{qos}"
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    else:
        client = mqtt.Client(client_id=client_id)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)  # unlimited: the publish loop never blocks on a full queue

    connected = threading.Event()
    done = threading.Event()
    published = [0]

    def on_connect(*_args):
        connected.set()

    def on_publish(*_args):
        published[0] += 1
        if published[0] == count:
            done.set()

    client.on_connect = on_connect
    client.on_publish = on_publish
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    if not connected.wait(10):
        sys.exit("paho did not connect")
    payload = b"x" * size
    start = time.perf_counter()
    sent = 0
    while sent < count:
        this_batch = min(batch, count - sent)
        messages = [client.publish("bench/paho", payload, qos=qos) for _ in range(this_batch)]
        for message in messages:
            message.wait_for_publish(300)
        sent += this_batch
    if not done.wait(300):
        sys.exit(f"paho: only {published[0]} of {count} published")
    elapsed = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    print(f"{count / elapsed:.1f}")


if __name__ == "__main__":
    main()
