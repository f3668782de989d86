"""The machine as an input of every run: probe, diagnosis, training plan and GPU monitoring."""
