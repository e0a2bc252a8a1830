"""Fashion-MNIST IDX reader shared by the Python comparison scripts (Debian's dataset-fashion-mnist)."""
import gzip
import struct

import numpy as np

D = "/usr/share/datasets/fashion-mnist/"


def idx(path):
    """The array in an IDX .gz file: images as (n, rows*cols) uint8, labels as (n,) uint8."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        r, c = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, r * c)
    return np.frombuffer(data, np.uint8, offset=8)
