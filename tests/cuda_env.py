"""Where the tests find CUDA: a real GPU for the ``cuda`` run cases, and
nvcc plus the fake-device shims (``cuda_fake_device/README.md`` of the
project's shared tools) for the ``cuda_build`` tests.

Nothing here imports pygenn's CUDA backend into the test process: a
process that loads it with the shims preloaded would believe in a device
that cannot run anything.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

# Where the shared set-up script's output lives when the variables it
# prints are not in the environment (so CI on such a machine finds them)
FAKE_CUDA_ENV_FILE = Path.home() / "cuda-fake" / "env.sh"

# Wall times of the cuda_build tests, for the run's summary line
CUDA_BUILD_TIMES = pytest.StashKey[dict]()

_CUDA_VARS = ("CUDA_PATH", "PATH", "LD_LIBRARY_PATH",
              "GENN_FAKE_CUDA_PRELOAD")


def _without_preload(env=None):
    env = dict(os.environ if env is None else env)
    env.pop("LD_PRELOAD", None)
    return env


@lru_cache(maxsize=None)
def cuda_backend_built() -> bool:
    """True when pygenn was built with its CUDA backend (whether or not a
    driver is there to load it)."""
    try:
        return importlib.util.find_spec("pygenn.cuda_backend") is not None
    except ImportError:
        return False


@lru_cache(maxsize=None)
def real_gpu_count() -> int:
    """Number of NVIDIA GPUs the driver reports, asked without any
    preloaded shim: ``nvidia-smi -L``, else the driver API through ctypes
    in a clean subprocess."""
    env = _without_preload()
    if shutil.which("nvidia-smi"):
        try:
            listing = subprocess.run(["nvidia-smi", "-L"], env=env,
                                     capture_output=True, text=True,
                                     timeout=60)
        except (OSError, subprocess.SubprocessError):
            listing = None
        if listing is not None and listing.returncode == 0:
            return sum(line.startswith("GPU ")
                       for line in listing.stdout.splitlines())
    probe = ("import ctypes\n"
             "lib = ctypes.CDLL('libcuda.so.1')\n"
             "n = ctypes.c_int(0)\n"
             "ok = lib.cuInit(0) == 0 and "
             "lib.cuDeviceGetCount(ctypes.byref(n)) == 0\n"
             "print(n.value if ok else 0)\n")
    try:
        result = subprocess.run([sys.executable, "-c", probe], env=env,
                                capture_output=True, text=True, timeout=60)
        return int(result.stdout.strip() or 0) if result.returncode == 0 \
            else 0
    except (OSError, subprocess.SubprocessError, ValueError):
        return 0


@lru_cache(maxsize=None)
def cuda_run_skip_reason():
    """None when GeNN models can run on CUDA here, else why not."""
    if not cuda_backend_built():
        return ("CUDA backend: pygenn was built without it (build GeNN "
                "with CUDA_PATH set)")
    if real_gpu_count() == 0:
        return ("CUDA backend: no GPU visible (neither nvidia-smi -L nor "
                "the CUDA driver lists one)")
    return None


def _fake_cuda_variables():
    """The variables of the fake-device set-up: from the environment, else
    from ``~/cuda-fake/env.sh``."""
    if all(os.environ.get(v) for v in ("CUDA_PATH",
                                       "GENN_FAKE_CUDA_PRELOAD")):
        return {v: os.environ.get(v, "") for v in _CUDA_VARS}, "environment"
    if not FAKE_CUDA_ENV_FILE.is_file():
        return None, None
    script = f'. "{FAKE_CUDA_ENV_FILE}" >/dev/null 2>&1; env -0'
    result = subprocess.run(["bash", "-c", script], env=_without_preload(),
                            capture_output=True, timeout=60)
    if result.returncode != 0:
        return None, None
    values = dict(entry.split("=", 1) for entry in
                  result.stdout.decode().split("\0") if "=" in entry)
    return {v: values.get(v, "") for v in _CUDA_VARS}, str(FAKE_CUDA_ENV_FILE)


@lru_cache(maxsize=None)
def cuda_build_env():
    """``(environment, None)`` for a subprocess that generates and compiles
    CUDA code, or ``(None, reason)``. With a real GPU the build uses it and
    preloads nothing; without one it preloads the fake-device shims."""
    if not cuda_backend_built():
        return None, ("CUDA build: pygenn was built without its CUDA "
                      "backend (build GeNN with CUDA_PATH set)")
    env = _without_preload()
    if real_gpu_count() > 0:
        if not env.get("CUDA_PATH") and shutil.which("nvcc"):
            env["CUDA_PATH"] = str(Path(shutil.which("nvcc")).parents[1])
        if not env.get("CUDA_PATH"):
            return None, "CUDA build: a GPU is visible but nvcc is not found"
    else:
        variables, origin = _fake_cuda_variables()
        if variables is None:
            return None, (f"CUDA build: no GPU and no fake-device shims "
                          f"(set CUDA_PATH and GENN_FAKE_CUDA_PRELOAD as "
                          f"cuda_fake_device/setup.sh prints, or write them "
                          f"to {FAKE_CUDA_ENV_FILE})")
        shims = variables["GENN_FAKE_CUDA_PRELOAD"].split()
        missing = [s for s in shims if not Path(s).is_file()]
        if not shims or missing:
            return None, (f"CUDA build: fake-device shims missing "
                          f"({', '.join(missing) or 'none given'}; from "
                          f"{origin})")
        env.update({k: v for k, v in variables.items() if v})
        env["LD_PRELOAD"] = " ".join(shims)
    nvcc = Path(env["CUDA_PATH"]) / "bin" / "nvcc"
    if not nvcc.is_file():
        return None, f"CUDA build: no nvcc at {nvcc} (CUDA_PATH)"
    probe = subprocess.run(
        [sys.executable, "-c", "from pygenn.genn_model import "
         "backend_modules; assert 'cuda' in backend_modules"],
        env=env, capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        return None, ("CUDA build: pygenn's CUDA backend does not load "
                      "with the shims: " + probe.stderr.strip()[-300:])
    return env, None
