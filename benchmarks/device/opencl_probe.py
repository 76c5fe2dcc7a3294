#!/usr/bin/env python3
"""OpenCL on this machine, as the ocl-icd loader sees it: which ICD files, whether each names a
library that loads, which platforms and devices the loader finds. The device step "suite" runs it
after pointing OCL_ICD_VENDORS at a folder holding one ICD file for NVIDIA's driver
(opencl_icd.sh), so that "OpenCL on the card cannot load" always comes with the exact reason.

Python's ctypes is all it needs (no pyopencl): the same loader and driver the Java backend (LWJGL)
loads, before any JVM starts.

stdout: one JSON object
  {"loader": "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1", "vendors": "<OCL_ICD_VENDORS or /etc/OpenCL/vendors>",
   "icds": [{"file": ".../nvidia.icd", "library": "/usr/local/nvidia/lib64/libnvidia-opencl.so.1", "loads": true}],
   "platforms": [{"name": "NVIDIA CUDA", "version": "OpenCL 3.0 CUDA 13.0.94",
                  "devices": [{"index": 0, "name": "NVIDIA H200", "gpu": true}]}],
   "device_index": 0, "reason": null}
  device_index is the first GPU's index in the Java backend's numbering (platforms in the loader's
  order, each platform's devices in order: opencl:<device_index>), with --any the first device's
  when there is no GPU; reason says why there is none.
exit status: 0 with a GPU (with --any: with any device), 3 without, and the reason.

  OCL_ICD_VENDORS=/tmp/v python3 benchmarks/device/opencl_probe.py
"""
import argparse
import ctypes
import ctypes.util
import glob
import json
import os
import sys

CL_PLATFORM_VERSION, CL_PLATFORM_NAME = 0x0901, 0x0902
CL_DEVICE_TYPE, CL_DEVICE_NAME = 0x1000, 0x102B
CL_DEVICE_TYPE_GPU, CL_DEVICE_TYPE_ALL = 1 << 2, 0xFFFFFFFF
CL_DEVICE_NOT_FOUND, CL_PLATFORM_NOT_FOUND_KHR = -1, -1001
LOADER_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/usr/local/nvidia/lib64", "/usr/local/cuda/lib64"]


def find_loader():
    """The ICD loader, searched as the Java backend searches it: LD_LIBRARY_PATH, then the usual folders."""
    dirs = [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d] + LOADER_DIRS
    for name in ("libOpenCL.so", "libOpenCL.so.1"):
        for d in dirs:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                return path
    return ctypes.util.find_library("OpenCL")


def icd_files(vendors):
    if os.path.isdir(vendors):
        return sorted(glob.glob(os.path.join(vendors, "*.icd")))
    return [vendors] if os.path.isfile(vendors) else []


def info_string(fn, obj, param):
    size = ctypes.c_size_t()
    if fn(obj, param, 0, None, ctypes.byref(size)) != 0:
        return "?"
    buf = ctypes.create_string_buffer(size.value)
    fn(obj, param, size, buf, None)
    return buf.value.decode(errors="replace").strip()


def probe():
    vendors = os.environ.get("OCL_ICD_VENDORS", "/etc/OpenCL/vendors")
    out = {"loader": None, "vendors": vendors, "icds": [], "platforms": [], "device_index": None, "reason": None}
    for f in icd_files(vendors):
        try:
            with open(f) as fh:
                lib = fh.read().strip()
        except OSError as e:
            out["icds"].append({"file": f, "library": None, "loads": False, "error": str(e)})
            continue
        row = {"file": f, "library": lib, "loads": True}
        try:
            ctypes.CDLL(lib)
        except OSError as e:
            row.update(loads=False, error=str(e))
        out["icds"].append(row)
    loader = find_loader()
    if loader is None:
        out["reason"] = "no OpenCL ICD loader (libOpenCL.so or libOpenCL.so.1) in LD_LIBRARY_PATH or %s" % ", ".join(LOADER_DIRS)
        return out
    out["loader"] = loader
    try:
        cl = ctypes.CDLL(loader)
    except OSError as e:
        out["reason"] = "the ICD loader %s does not load: %s" % (loader, e)
        return out
    n = ctypes.c_uint()
    status = cl.clGetPlatformIDs(0, None, ctypes.byref(n))
    if status not in (0, CL_PLATFORM_NOT_FOUND_KHR):
        out["reason"] = "clGetPlatformIDs failed with status %d (loader %s)" % (status, loader)
        return out
    if status == CL_PLATFORM_NOT_FOUND_KHR or n.value == 0:
        if not out["icds"]:
            why = "there is no .icd file in %s" % vendors
        else:
            why = "; ".join("%s names %s, which %s" % (i["file"], i["library"], "loads but registers no platform" if i["loads"]
                                                        else "does not load: %s" % i.get("error")) for i in out["icds"])
        out["reason"] = "the ICD loader %s found no OpenCL platform with OCL_ICD_VENDORS=%s: %s" % (loader, vendors, why)
        return out
    ids = (ctypes.c_void_p * n.value)()
    cl.clGetPlatformIDs(n.value, ids, None)
    index = 0
    for p in ids:
        platform = {"name": info_string(cl.clGetPlatformInfo, ctypes.c_void_p(p), CL_PLATFORM_NAME),
                    "version": info_string(cl.clGetPlatformInfo, ctypes.c_void_p(p), CL_PLATFORM_VERSION), "devices": []}
        nd = ctypes.c_uint()
        status = cl.clGetDeviceIDs(ctypes.c_void_p(p), ctypes.c_ulong(CL_DEVICE_TYPE_ALL), 0, None, ctypes.byref(nd))
        if status == 0 and nd.value > 0:
            devs = (ctypes.c_void_p * nd.value)()
            cl.clGetDeviceIDs(ctypes.c_void_p(p), ctypes.c_ulong(CL_DEVICE_TYPE_ALL), nd.value, devs, None)
            for d in devs:
                kind = ctypes.c_ulong()
                cl.clGetDeviceInfo(ctypes.c_void_p(d), CL_DEVICE_TYPE, ctypes.sizeof(kind), ctypes.byref(kind), None)
                gpu = bool(kind.value & CL_DEVICE_TYPE_GPU)
                platform["devices"].append({"index": index, "name": info_string(cl.clGetDeviceInfo, ctypes.c_void_p(d), CL_DEVICE_NAME),
                                            "gpu": gpu})
                if gpu and out["device_index"] is None:
                    out["device_index"] = index
                index += 1
        elif status not in (0, CL_DEVICE_NOT_FOUND):
            platform["error"] = "clGetDeviceIDs failed with status %d" % status
        out["platforms"].append(platform)
    if out["device_index"] is None:
        found = ["%s: %s" % (p["name"], ", ".join(d["name"] for d in p["devices"]) or "no device") for p in out["platforms"]]
        out["reason"] = "OpenCL found no GPU device (%s)" % "; ".join(found)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--any", action="store_true", help="succeed with any device, not only a GPU (a test with pocl)")
    a = p.parse_args()
    out = probe()
    devices = [d["index"] for p in out["platforms"] for d in p["devices"]]
    if a.any and devices and out["device_index"] is None:
        out["device_index"], out["reason"] = devices[0], None
    print(json.dumps(out))
    sys.exit(0 if out["reason"] is None else 3)


if __name__ == "__main__":
    main()
