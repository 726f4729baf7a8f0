"""The edgewise default pipeline written the way a user would glue it together in Python.

The footprint benchmark (`cargo xtask bench footprint`) runs this beside the edgewise agent
and measures both the same way. It does the agent's default job:

* an environment sensor (BME280-like: temperature, humidity, pressure) read at 1 Hz, with a
  hysteresis rule on temperature and a rate-of-change rule on humidity;
* a 3-axis accelerometer at 1 kHz on a vibrating machine, delivered in FIFO bursts of 50
  samples; windows of 256 samples hopping 128; per axis rms, peak, crest factor, kurtosis and,
  from numpy's rfft on a Hann window, the energy in the 0-50, 50-150 and 150-500 Hz bands,
  the 2 strongest peaks and the spectral centroid;
* a robust z-score anomaly detector (median/MAD baseline over the first 120 windows,
  threshold 6, an event after 3 anomalous windows in a row);
* a real TFLite model run on every window with ai-edge-litert (magic_wand: 128 accelerometer
  samples x 3 axes -> 4 gesture scores), standing in for the agent's local model;
* paho-mqtt publishing JSON readings, window features and events with QoS 1.

Readings are simulated with numpy (no smbus): the point is the cost of the Python stack, not
of a bus. It prints `first-delivered <seconds since start>` when the first PUBACK arrives.

    python pipeline.py --host 127.0.0.1 --port 1883 --for 60
"""

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

IMU_RATE_HZ = 1000.0
FIFO_BURST = 50  # samples per FIFO read: a burst every 50 ms
ENV_PERIOD_S = 1.0
WINDOW, HOP = 256, 128
BANDS_HZ = [(0.0, 50.0), (50.0, 150.0), (150.0, 500.0)]
PEAKS = 2
BASELINE_WINDOWS, THRESHOLD, FOR_WINDOWS = 120, 6.0, 3
DEFAULT_MODEL = (
    pathlib.Path(__file__).resolve().parents[3] / "shared" / "models" / "magic_wand.tflite"
)


class Environment:
    """A BME280-like room: slowly varying temperature, humidity and pressure."""

    def __init__(self, rng):
        self.rng = rng

    def read(self, t):
        return {
            "temperature": 22.0 + 1.5 * math.sin(t / 600.0) + self.rng.normal(0, 0.02),
            "humidity": 45.0 + 5.0 * math.sin(t / 900.0 + 1.0) + self.rng.normal(0, 0.1),
            "pressure": 1013.25 + 0.8 * math.sin(t / 1800.0) + self.rng.normal(0, 0.01),
        }


class Machine:
    """An accelerometer on a motor: the 1x rotation tone and harmonics, a bearing tone,
    noise and gravity, in g, generated a FIFO burst at a time."""

    def __init__(self, rng):
        self.rng = rng
        self.sample = 0

    def burst(self, n):
        t = (self.sample + np.arange(n)) / IMU_RATE_HZ
        self.sample += n
        rotation = 2 * np.pi * 29.5 * t
        x = 0.30 * np.sin(rotation) + 0.08 * np.sin(2 * rotation) + 0.02 * np.sin(2 * np.pi * 180 * t)
        y = 0.25 * np.cos(rotation) + 0.05 * np.sin(3 * rotation)
        z = 1.0 + 0.05 * np.sin(rotation + 0.5)
        frame = np.stack([x, y, z], axis=1)
        return (frame + self.rng.normal(0, 0.01, frame.shape)).astype(np.float32)


def features(window):
    """36 features: per axis rms, peak, crest factor, kurtosis, 3 band energies, 2 peaks
    (frequency, magnitude) and the centroid."""
    out = []
    centred = window - window.mean(axis=0)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)  # periodic
    spectrum = np.abs(np.fft.rfft(centred * hann[:, None], axis=0))
    freqs = np.fft.rfftfreq(WINDOW, 1.0 / IMU_RATE_HZ)
    power = spectrum**2
    for axis in range(window.shape[1]):
        x = window[:, axis]
        rms = float(np.sqrt(np.mean(x * x)))
        peak = float(np.max(np.abs(x)))
        c = centred[:, axis]
        m2 = float(np.mean(c * c))
        kurtosis = float(np.mean(c**4) / (m2 * m2)) if m2 > 0 else 0.0
        out += [rms, peak, peak / rms if rms > 0 else 0.0, kurtosis]
        for low, high in BANDS_HZ:
            out.append(float(power[(freqs >= low) & (freqs < high), axis].sum()))
        strongest = np.argsort(spectrum[1:, axis])[::-1][:PEAKS] + 1
        for i in strongest:
            out += [float(freqs[i]), float(spectrum[i, axis])]
        total = float(spectrum[:, axis].sum())
        out.append(float((freqs * spectrum[:, axis]).sum() / total) if total > 0 else 0.0)
    return np.array(out)


class RobustZScore:
    """Learns the median and MAD of each feature over the first windows, then scores a window
    by its largest robust z-score."""

    def __init__(self):
        self.baseline = []
        self.median = self.scale = None

    def score(self, vector):
        if self.median is None:
            self.baseline.append(vector)
            if len(self.baseline) == BASELINE_WINDOWS:
                stack = np.stack(self.baseline)
                self.median = np.median(stack, axis=0)
                mad = np.median(np.abs(stack - self.median), axis=0)
                self.scale = np.maximum(1.4826 * mad, 1e-9)
            return None
        return float(np.max(np.abs(vector - self.median) / self.scale))


class Publisher:
    """paho-mqtt with QoS 1; reports the first PUBACK."""

    def __init__(self, host, port, client_id):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_publish = self._acknowledged
        self.first_delivered = threading.Event()
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def _acknowledged(self, _client, _userdata, _mid, _reason, _properties):
        if not self.first_delivered.is_set():
            self.first_delivered.set()
            print(f"first-delivered {time.monotonic() - STARTED:.3f}", flush=True)

    def publish(self, topic, payload):
        return self.client.publish(topic, json.dumps(payload), qos=1)

    def close(self, pending):
        deadline = time.monotonic() + 5.0
        for info in pending:
            if not info.is_published() and time.monotonic() < deadline:
                info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
        self.client.disconnect()
        self.client.loop_stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--for", dest="seconds", type=float, default=60.0)
    parser.add_argument("--device", default="python-pipeline")
    parser.add_argument("--topic", default="footprint/{device}/{sensor}")
    parser.add_argument("--model", type=pathlib.Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"pipeline.py: no model at {args.model} (see shared/models/README.md)")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    interpreter = Interpreter(model_path=str(args.model))
    interpreter.allocate_tensors()
    model_in = interpreter.get_input_details()[0]
    model_out = interpreter.get_output_details()[0]

    rng = np.random.default_rng(7)
    environment, machine = Environment(rng), Machine(rng)
    detector = RobustZScore()
    publisher = Publisher(args.host, args.port, args.device)
    topic = lambda sensor: args.topic.format(device=args.device, sensor=sensor)  # noqa: E731
    pending = []

    def send(sensor, payload):
        pending.append(publisher.publish(topic(sensor), payload))
        del pending[:-1000]  # keep the last ones to wait for at exit

    def event(rule, value, now):
        send("events", {"rule": rule, "value": value, "time": now})

    buffer = np.zeros((0, 3), dtype=np.float32)
    too_warm = False
    last_humidity = None
    anomalous_run = 0
    start = time.monotonic()
    deadline = start + args.seconds
    env_n, imu_n = 0, 0
    while not stop.is_set():
        # Drift-free schedule: the n-th reading is due at start + n * period.
        env_due = start + env_n * ENV_PERIOD_S
        imu_due = start + (imu_n + 1) * FIFO_BURST / IMU_RATE_HZ
        due = min(env_due, imu_due)
        if due >= deadline:
            break
        if stop.wait(max(0.0, due - time.monotonic())):
            break
        now = time.time()
        if due == env_due:
            env_n += 1
            reading = environment.read(time.monotonic() - start)
            send("environment", {"sensor": "environment", "time": now, **reading})
            t = reading["temperature"]
            if not too_warm and t > 30.0:
                too_warm = True
                event("too-warm", t, now)
            elif too_warm and t < 28.0:
                too_warm = False
                event("too-warm-cleared", t, now)
            h = reading["humidity"]
            if last_humidity is not None and abs(h - last_humidity) / ENV_PERIOD_S > 2.0:
                event("humidity-jump", h, now)
            last_humidity = h
            continue
        imu_n += 1
        buffer = np.concatenate([buffer, machine.burst(FIFO_BURST)])
        while len(buffer) >= WINDOW:
            window = buffer[:WINDOW]
            buffer = buffer[HOP:]
            vector = features(window)
            interpreter.set_tensor(model_in["index"], window[-128:].reshape(1, 128, 3, 1))
            interpreter.invoke()
            scores = interpreter.get_tensor(model_out["index"])[0]
            score = detector.score(vector)
            send(
                "motor",
                {
                    "sensor": "motor",
                    "time": now,
                    "features": vector.round(6).tolist(),
                    "model": scores.round(6).tolist(),
                    "anomaly_score": score,
                },
            )
            anomalous_run = anomalous_run + 1 if score is not None and score > THRESHOLD else 0
            if anomalous_run == FOR_WINDOWS:
                event("vibration-anomaly", score, now)
    publisher.close(pending)


if __name__ == "__main__":
    main()
