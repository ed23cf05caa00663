"""Each worker process on a GPU of its own, with memory that grows as needed.

TensorFlow reserves nearly all of a GPU's memory in the first process that
touches it, so with ``n_jobs`` workers a second worker on the same GPU fails
or crawls.  Before a worker's first fit (and so before TensorFlow starts
its GPUs), :func:`configure_devices` gives the process one GPU, the one
the fewest live workers of the same search hold (round-robin when each
worker takes one; several workers share a GPU when there are more workers
than GPUs), and turns memory growth on, so that the processes sharing a
GPU take only what their models need.  ``SK_HPO_GPUS`` (indices, such as
``"0,2"``) restricts the GPUs the workers use; ``SK_HPO_GPUS=""`` keeps
them on the CPU.  On a machine without a GPU nothing changes.

Workers claim a GPU with a file named after the device and their process
id in a folder of the temporary directory named after the process that
started them (the search), so a claim lasts as long as its worker lives.
"""

import contextlib
import os
import tempfile

_configured = False


def claim_device(n_devices, folder, pid):
    """The index (of ``n_devices``) this process takes: the one with the
    fewest claims by live processes in ``folder``, the lowest on a tie;
    its claim is written there.  Claims of dead processes are removed."""
    os.makedirs(folder, exist_ok=True)
    load = [0] * n_devices
    for name in os.listdir(folder):
        device, _, owner = name.partition("-")
        if not (device.isdigit() and owner.isdigit()):
            continue
        if int(owner) == pid:
            return int(device) if int(device) < n_devices else 0  # claimed already
        if not _alive(int(owner)):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
        elif int(device) < n_devices:
            load[int(device)] += 1
    device = load.index(min(load))
    with open(os.path.join(folder, f"{device}-{pid}"), "w"):
        pass
    return device


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def visible_gpus(gpus, setting=None):
    """The GPUs workers may use: all of ``gpus``, or those ``setting`` (the
    ``SK_HPO_GPUS`` text, comma-separated indices into ``gpus``) names."""
    if setting is None:
        return list(gpus)
    indices = [part.strip() for part in setting.split(",") if part.strip()]
    bad = [i for i in indices if not i.isdigit() or int(i) >= len(gpus)]
    if bad:
        raise ValueError(
            f"SK_HPO_GPUS={setting!r} names {bad}, not among the {len(gpus)} GPU(s) "
            f"TensorFlow sees (indices 0 to {len(gpus) - 1})."
        )
    return [gpus[int(i)] for i in indices]


def configure_devices(config=None, folder=None, pid=None):
    """Give this process its GPU and memory growth, once, before TensorFlow starts.

    ``config`` is ``tf.config`` (a stand-in in the tests); returns the GPU
    chosen, or None on the CPU.
    """
    global _configured
    if _configured:
        return None
    _configured = True
    if config is None:
        import tensorflow as tf

        config = tf.config
    # The GPUs visible so far: all of them, or those the user made visible.
    gpus = visible_gpus(config.get_visible_devices("GPU"), os.environ.get("SK_HPO_GPUS"))
    if not gpus:
        with contextlib.suppress(RuntimeError):  # started already: its choice stands
            config.set_visible_devices([], "GPU")
        return None
    folder = folder or os.path.join(tempfile.gettempdir(), f"sk_hpo-gpus-{os.getppid()}")
    gpu = gpus[claim_device(len(gpus), folder, pid or os.getpid())]
    try:
        config.set_visible_devices([gpu], "GPU")
        config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:  # TensorFlow started its GPUs before the first fit
        return None
    return gpu
