"""The benchmarks behind ``docs/results/``: each module runs one, keeps its records, and draws its page."""
