"""What the benchmark scripts share (imported from beside them: each script
runs as `python3 tools/bench/NAME.py`, so this folder is on sys.path)."""
import platform


def cpu_model():
    """The CPU's model name, quoted with every CPU figure."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
