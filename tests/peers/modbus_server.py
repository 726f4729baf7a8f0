"""A Modbus TCP server (pymodbus < 4) with known register contents, for the link tests.

Usage: modbus_server.py PORT UNIT_ID EXPECT_FILE POINT...

Each POINT is `name,kind,address,type,order,value,scale,offset`: kind is `holding` or `input`,
address is the 0-based protocol address (the one on the wire), type is u16/i16/u32/i32/f32,
order is ABCD (high word first) or CDAB (low word first), value the engineering value
before scaling. The server stores each value's registers, packed with Python's struct module,
then writes EXPECT_FILE (atomically) before it serves:

    registers KIND START WORD...      what the server holds, from protocol address START
    expect NAME VALUE                 the point decoded back from those registers with struct,
                                      times scale plus offset (Python float repr)

So the expected values come from struct's packing and unpacking, not from the code under test.
Registers no point uses read as 0, inside one block per kind that spans address 0 to the last
used register; addresses beyond it are unmapped (exception 2, illegal data address).
"""

import asyncio
import logging
import os
import struct
import sys

from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
)
from pymodbus.server import ModbusTcpServer

FORMATS = {"u16": ">H", "i16": ">h", "u32": ">I", "i32": ">i", "f32": ">f"}


def words_of(dtype, order, value):
    """The registers holding `value`, in the order the device stores them."""
    packed = struct.pack(FORMATS[dtype], int(value) if dtype != "f32" else float(value))
    words = [int.from_bytes(packed[i : i + 2], "big") for i in range(0, len(packed), 2)]
    if order == "CDAB":
        words.reverse()
    return words


def value_of(dtype, order, words):
    """The value the registers hold: the inverse of `words_of`, by struct again."""
    words = list(words)
    if order == "CDAB":
        words.reverse()
    packed = b"".join(w.to_bytes(2, "big") for w in words)
    return struct.unpack(FORMATS[dtype], packed)[0]


def main():
    port, unit_id, expect_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    registers = {"holding": {}, "input": {}}
    expect = []
    for spec in sys.argv[4:]:
        name, kind, address, dtype, order, value, scale, offset = spec.split(",")
        address = int(address)
        words = words_of(dtype, order, float(value) if dtype == "f32" else int(value))
        for i, word in enumerate(words):
            previous = registers[kind].setdefault(address + i, word)
            if previous != word:
                sys.exit(f"point {name}: register {kind} {address + i} already holds {previous}")
        stored = [registers[kind][address + i] for i in range(len(words))]
        expect.append((name, value_of(dtype, order, stored) * float(scale) + float(offset)))

    blocks = {}
    lines = []
    for kind, regs in registers.items():
        size = max(regs) + 1 if regs else 1
        words = [regs.get(a, 0) for a in range(size)]
        lines.append(f"registers {kind} 0 " + " ".join(map(str, words)))
        # pymodbus data blocks are 1-based: the block at 1 serves protocol address 0.
        blocks[kind] = ModbusSequentialDataBlock(1, words)
    lines += [f"expect {name} {value!r}" for name, value in expect]
    with open(expect_file + ".tmp", "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(expect_file + ".tmp", expect_file)

    device = ModbusDeviceContext(hr=blocks["holding"], ir=blocks["input"])
    context = ModbusServerContext(devices={unit_id: device}, single=False)
    asyncio.run(serve(context, port))


async def serve(context, port):
    """Serves until killed (the server needs a running event loop to be created)."""
    server = ModbusTcpServer(context, address=("127.0.0.1", port))
    await server.serve_forever()


if __name__ == "__main__":
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    main()
