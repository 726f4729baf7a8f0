"""Times models through the official TFLite runtime (PyPI ai-edge-litert), for comparison
with edgewise-infer in the same run. Prints one line per model: name, µs per inference,
first output value. Inputs are the models' golden inputs where the caller passes them.

usage: python litert_timing.py ITERATIONS MODEL.tflite:INPUT_F32_VALUES ...
"""
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def main() -> None:
    iterations = int(sys.argv[1])
    for spec in sys.argv[2:]:
        path, values = spec.split(":", 1)
        interpreter = Interpreter(model_path=path)
        interpreter.allocate_tensors()
        inp = interpreter.get_input_details()[0]
        out = interpreter.get_output_details()[0]
        x = np.array([float(v) for v in values.split(",")], dtype=np.float32)
        x = x.reshape(inp["shape"])
        for _ in range(100):  # warm-up
            interpreter.set_tensor(inp["index"], x)
            interpreter.invoke()
        start = time.perf_counter()
        for _ in range(iterations):
            interpreter.set_tensor(inp["index"], x)
            interpreter.invoke()
            y = interpreter.get_tensor(out["index"])
        elapsed = time.perf_counter() - start
        print(f"{path}\t{elapsed / iterations * 1e6:.3f}\t{float(y.flat[0]):.6f}")


if __name__ == "__main__":
    main()
