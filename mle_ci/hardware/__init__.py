"""The machine as an input of every run: probe, diagnosis, training plan, NVML and the GPU sampler."""
